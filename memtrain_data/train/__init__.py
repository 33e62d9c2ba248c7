"""`memtrain train`: MemTrain's joint GRPO (end-to-end memory trajectories + intermediate recall) on TRL.

`config` (settings and presets), `data` (loading and checking episodes), `rewards` (the reward
and advantage arithmetic), `rollout` (episodes → trajectories → training rows), `trainer`
(`MemTrainGRPOTrainer`, a thin `trl.GRPOTrainer` subclass), `callbacks` (per-step logs) and
`run` (`train_memory_agent`). Only `trainer`, `callbacks` and `run` import torch/transformers/trl.
"""
