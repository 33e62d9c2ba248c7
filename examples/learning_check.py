"""Does `memtrain train` learn? Train on memtrain's toy episodes, next to an lr = 0 control.

Runs `memtrain train --sanity-check` twice with the same seed and settings, once with a real
learning rate and once with learning rate 0 (the control: same rollouts machinery, weights never
move), side by side, then writes a per-step table of end-to-end EM and recall EM for both runs
(Markdown, on stdout and in OUT/table.md) and a plot (OUT/learning_check.png).

The toy episodes (memtrain_data/train/toy.py) state a made-up town (the recall target, chunk 0)
and lighthouse keeper (the answer, chunk 1) once each; the last chunk calls the keeper [MASK]. The
EMs are those of each step's own rollouts (sampled at --temperature), before that step's update.
After training, both saved models are scored on --eval-episodes toy episodes of another seed
(OUT/heldout.json, a second table).

    python examples/learning_check.py --output runs/learning-check            # both runs, then the report
    python examples/learning_check.py --output runs/learning-check --evaluate # score existing runs, report
    python examples/learning_check.py --output runs/learning-check --report   # report existing runs only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from statistics import fmean

MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
TEMPLATES = Path(__file__).with_name("learning-check-templates.yaml")
CHUNK_TOKENS, MEMORY_TOKENS, RESPONSE_TOKENS = 64, 32, 32
# Held-out toy episodes come from another seed than the training set's (same name lists, other pairs).
HELDOUT_SEED_OFFSET = 1_000


def train_command(output: Path, learning_rate: float, args: argparse.Namespace) -> list[str]:
    return [
        sys.executable, "-m", "memtrain_cli", "train",
        "--model", args.model, "--sanity-check", "--preset", "cpu-smoke",
        "--templates", str(TEMPLATES),
        "--max-episodes", str(args.episodes),
        "--g1", str(args.g1), "--g2", str(args.g2),
        "--chunk-tokens", str(CHUNK_TOKENS), "--memory-tokens", str(MEMORY_TOKENS),
        "--response-tokens", str(RESPONSE_TOKENS),
        "--temperature", str(args.temperature),
        "--max-steps", str(args.steps),
        "--resample-tries", str(args.resample_tries),
        # One optimizer step per generation batch, its rows trained in --micro-steps slices (the
        # activations of all rows of a step at once do not fit in 24 GiB twice).
        "--per-device-train-batch-size", str(args.episodes_per_step * args.g1 // args.micro_steps),
        "--gradient-accumulation-steps", str(args.micro_steps),
        "--learning-rate", str(learning_rate),
        "--beta", "0",  # no reference model: saves a forward pass per step on CPU
        "--save-strategy", "no",
        "--seed", str(args.seed),
        "--output-dir", str(output),
    ]  # fmt: skip


def read_metrics(run: Path) -> list[dict[str, float]]:
    path = run / "metrics.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def evaluate_heldout(run: Path, args: argparse.Namespace) -> dict[str, float]:
    """EMs of a finished run's saved model on toy episodes it never trained on, sampled as in training.

    Also how often the memory the answer turn reads still holds the keeper (final) or the town
    (recall): what the memory has learned to carry, whether or not the answer turn then names it.
    """
    from memtrain_data.agent.backends.transformers_backend import TransformersBackend
    from memtrain_data.agent.budgets import AgentBudgets
    from memtrain_data.agent.templates import PromptTemplates
    from memtrain_data.train.rollout import RolloutSettings, rollout_episodes, rollout_metrics
    from memtrain_data.train.toy import toy_episodes

    backend = TransformersBackend.from_pretrained(str(run), batch_size=64)
    settings = RolloutSettings(
        g1=args.eval_samples,
        g2=args.eval_samples,
        budgets=AgentBudgets(chunk_tokens=CHUNK_TOKENS, memory_tokens=MEMORY_TOKENS, response_tokens=RESPONSE_TOKENS),
        templates=PromptTemplates.from_file(TEMPLATES),
        temperature=args.temperature,
        seed=args.seed,
    )
    episodes = toy_episodes(args.eval_episodes, seed=args.seed + HELDOUT_SEED_OFFSET)
    rollouts = rollout_episodes(backend, episodes, settings, dynamic_sampling=False)
    metrics = rollout_metrics(rollouts, backend.tokenizer)
    keeper_kept = [
        rollout.answers[0].lower() in trajectory.memories[-1].lower()
        for rollout in rollouts
        for trajectory in rollout.trajectories
    ]
    town_kept = [
        group.target.lower() in trajectory.memories[group.step].lower()
        for rollout in rollouts
        for trajectory, group in zip(rollout.trajectories, rollout.recall_groups, strict=True)
        if group is not None
    ]
    return {
        "episodes": float(len(episodes)),
        "e2e_em": metrics["e2e_em"],
        "imr_em": metrics["imr_em"],
        "memory_tokens": metrics["memory_tokens"],
        "final_answers": float(len(keeper_kept)),
        "recall_answers": float(len(town_kept) * settings.g2),
        "memory_holds_keeper": sum(keeper_kept) / len(keeper_kept),
        "memory_holds_town": sum(town_kept) / len(town_kept),
    }


def two_proportion_z(hits_a: float, total_a: float, hits_b: float, total_b: float) -> float:
    """z of the difference between two success rates (pooled two-proportion test); 0 when undefined.

    Above about 2 the gap is unlikely to be sampling noise alone (two-sided p < 0.05).
    """
    pooled = (hits_a + hits_b) / (total_a + total_b)
    variance = pooled * (1 - pooled) * (1 / total_a + 1 / total_b)
    if variance <= 0:
        return 0.0
    return (hits_a / total_a - hits_b / total_b) / variance**0.5


def report(output: Path) -> str:
    trained = read_metrics(output / "trained")
    control = read_metrics(output / "control")
    steps = min(len(trained), len(control))
    lines = [
        "| step | e2e EM (lr) | e2e EM (lr 0) | recall EM (lr) | recall EM (lr 0) | groups kept (lr) | skipped (lr) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for index in range(steps):
        a, b = trained[index], control[index]
        lines.append(
            f"| {index + 1} | {a['e2e_em']:.3f} | {b['e2e_em']:.3f} | {a['imr_em']:.3f} | {b['imr_em']:.3f} "
            f"| {a.get('groups_kept', 0):.0f} | {a.get('skipped_step', 0):.0f} |"
        )
    if steps:
        means = [fmean(row[key] for row in rows[:steps]) for key in ("e2e_em", "imr_em") for rows in (trained, control)]
        lines.append("| mean | " + " | ".join(f"{value:.3f}" for value in means) + " | | |")
    heldout_path = output / "heldout.json"
    if heldout_path.is_file():
        heldout = json.loads(heldout_path.read_text())
        a, b = heldout["trained"], heldout["control"]
        lines += [
            "",
            f"Held out: {a['episodes']:.0f} toy episodes never trained on, {a['final_answers']:.0f} final and "
            f"{a['recall_answers']:.0f} recall answers per model.",
            "",
            "| model | e2e EM | recall EM | last memory holds the keeper | recall memory holds the town |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, row in (("trained", a), ("lr = 0 control", b)):
            lines.append(
                f"| {name} | {row['e2e_em']:.3f} | {row['imr_em']:.3f} | {row['memory_holds_keeper']:.3f} "
                f"| {row['memory_holds_town']:.3f} |"
            )
        e2e_z, recall_z = (
            two_proportion_z(a[rate] * a[count], a[count], b[rate] * b[count], b[count])
            for rate, count in (("e2e_em", "final_answers"), ("imr_em", "recall_answers"))
        )
        lines += ["", f"Trained vs control, two-proportion z: end-to-end {e2e_z:.2f}, recall {recall_z:.2f}."]
    table = "\n".join(lines) + "\n"
    (output / "table.md").write_text(table)
    if steps:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        figure, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharex=True)
        x = list(range(1, steps + 1))
        for axis, key, title in ((axes[0], "e2e_em", "end-to-end EM"), (axes[1], "imr_em", "recall EM")):
            axis.plot(x, [r[key] for r in trained[:steps]], marker="o", label="trained")
            axis.plot(x, [r[key] for r in control[:steps]], marker="s", linestyle="--", label="lr = 0 control")
            axis.set_title(title)
            axis.set_xlabel("step")
            axis.set_ylim(-0.05, 1.05)
            axis.grid(alpha=0.3)
        axes[0].legend(loc="upper left")
        figure.suptitle("memtrain train --sanity-check, SmolLM2-135M-Instruct on CPU")
        figure.tight_layout()
        figure.savefig(output / "learning_check.png", dpi=110)
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=Path("runs/learning-check"))
    parser.add_argument("--model", default=MODEL, help="policy to train (a local folder or Hub id)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--episodes", type=int, default=64, help="toy episodes generated")
    parser.add_argument(
        "--episodes-per-step", type=int, default=4, help="end-to-end groups per step (the signal the final answer learns from)"
    )
    parser.add_argument("--g1", type=int, default=8)
    parser.add_argument("--g2", type=int, default=2)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument(
        "--micro-steps", type=int, default=8, help="slices of a step's rows, trained one after another (memory)"
    )
    parser.add_argument(
        "--temperature", type=float, default=0.7, help="sampling temperature (1.0 makes a 135M model ramble)"
    )
    parser.add_argument("--resample-tries", type=int, default=0, help="dynamic-sampling refill rounds (CPU cost)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-episodes", type=int, default=32, help="held-out toy episodes scored after training")
    parser.add_argument("--eval-samples", type=int, default=4, help="G1 and G2 of the held-out scoring")
    parser.add_argument("--evaluate", action="store_true", help="score and report existing runs (no training)")
    parser.add_argument("--report", action="store_true", help="only write the report of existing runs")
    args = parser.parse_args(argv)
    if (args.episodes_per_step * args.g1) % args.micro_steps:
        parser.error("--micro-steps must divide --episodes-per-step × --g1")

    if not args.report and not args.evaluate:
        args.output.mkdir(parents=True, exist_ok=True)
        # Two runs share the machine: one torch thread pool each, sized to half the cores, so they
        # do not oversubscribe it (and neither gets ahead of the other).
        threads = str(max(1, (os.cpu_count() or 2) // 2))
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", threads),
        }
        # Side by side, so that whenever the runs are stopped both have about as many steps.
        runs = {
            name: subprocess.Popen(
                train_command(args.output / name, rate, args),
                stdout=(args.output / f"{name}.log").open("w"),
                stderr=subprocess.STDOUT,
                env=env,
            )
            for name, rate in (("trained", args.learning_rate), ("control", 0.0))
        }
        for name, process in runs.items():
            if process.wait() != 0:
                sys.exit(f"the {name} run failed: see {args.output / f'{name}.log'}")
    if not args.report:
        heldout = {name: evaluate_heldout(args.output / name, args) for name in ("trained", "control")}
        (args.output / "heldout.json").write_text(json.dumps(heldout, indent=1) + "\n")
    print(report(args.output), end="")


if __name__ == "__main__":
    main()
