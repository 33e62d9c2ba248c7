"""`python -m memtrain_cli ...` (also what `accelerate launch -m memtrain_cli train ...` runs)."""

from memtrain_cli.app import main

if __name__ == "__main__":
    main()
