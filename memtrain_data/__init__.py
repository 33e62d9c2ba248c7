"""memtrain: self-supervised memory-agent training data from Wikipedia (the MemTrain method).

The library holds all logic; `memtrain_cli` only parses arguments and prints.
Heavy dependencies (torch, transformers, trl, spacy) are imported inside the functions
that need them so that importing this package stays fast.
"""

__version__ = "0.1.0"

# Bumped whenever a change to the builder would change the records it writes; it is part of
# every episode's random seed, so old and new builds never silently mix.
BUILDER_VERSION = "memtrain-episodes/2"
