"""Hostile and careless input: each module pins one family of cases that once went wrong.

To add a case, add a test to the module of its family (or a new `test_<family>.py`) whose
name says the input and the expected outcome; it must reproduce the problem with real files
and real processes, and assert the one-line error or the counted skip.
"""
