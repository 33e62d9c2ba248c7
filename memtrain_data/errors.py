"""Errors a user can act on.

Anything raised as `MemtrainError` is shown by the CLI as one line (no traceback) and ends
the command with a non-zero exit code. Library code raises it for bad input; bugs stay
ordinary exceptions.
"""

from __future__ import annotations


class MemtrainError(Exception):
    """A problem with the user's input or environment, explained in the message."""

    exit_code: int = 2


class InputError(MemtrainError):
    """A path, file or value given by the user cannot be used."""


class ConfigError(MemtrainError):
    """A configuration file or flag is invalid (unknown key, wrong type, impossible budget)."""


class MissingDependencyError(MemtrainError):
    """An optional package or model that the requested feature needs is not installed."""
