"""Hostile and careless input: each module pins one family of cases that once went wrong.

- `test_build_settings.py`: unsafe or reserved config names, out-of-range numbers (seed, sizes),
  a bad Hub target or missing token (all refused before anything is written), bounded task sizes.
- `test_output_folder.py`: a user's non-empty folder, `--overwrite`, a file or a read-only folder
  as `--output`, a full disk mid-build, parquet input with wrong column types.
- `test_pool_input.py`: input that leaves the pool empty or small, `--num-episodes` far beyond it.
- `test_processes.py`: two builds of one folder, a stale lock, workers orphaned by `kill -9`.
- `test_environment.py`: the caller's Hub/model/cluster settings never reach the tests.

To add a case, add a test to the module of its family (or a new `test_<family>.py`) whose name
says the input and the expected outcome; it reproduces the problem with real files and real
processes, and asserts the one-line error (exit 2) or the counted skip.
"""
