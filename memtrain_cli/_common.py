"""Shared CLI plumbing: one console, and turning library errors into one-line messages."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from memtrain_data.errors import MemtrainError, first_line, user_error_from_os_error

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def report_errors(command: F) -> F:
    """Run a command so that user errors end it with one line on stderr and a non-zero exit.

    Unexpected exceptions also become one line; MEMTRAIN_DEBUG=1 re-raises them with the
    traceback for bug reports.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except MemtrainError as exc:
            # escape: messages name extras like memtrain[vllm], which rich would read as markup
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/]")
            raise typer.Exit(130) from None
        except Exception as exc:
            if os.environ.get("MEMTRAIN_DEBUG"):
                raise
            # A full disk or a read-only folder is the user's to fix, wherever it surfaced.
            user_error = user_error_from_os_error(exc)
            if user_error is not None:
                err_console.print(f"[bold red]error:[/] {escape(str(user_error))}", highlight=False, soft_wrap=True)
                raise typer.Exit(user_error.exit_code) from None
            message = first_line(exc, empty="")
            err_console.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {escape(message)} "
                "(set MEMTRAIN_DEBUG=1 to see the traceback, and please report it)",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


class MemtrainTyper(typer.Typer):
    """A Typer whose commands all report errors as one line (see `report_errors`)."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        register = super().command(*args, **kwargs)

        def decorator(function: F) -> F:
            register(report_errors(function))
            return function

        return decorator

    def callback(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        register = super().callback(*args, **kwargs)

        def decorator(function: F) -> F:
            register(report_errors(function))
            return function

        return decorator


def new_app(**kwargs: Any) -> MemtrainTyper:
    kwargs.setdefault("no_args_is_help", True)
    kwargs.setdefault("pretty_exceptions_enable", False)
    kwargs.setdefault("rich_markup_mode", "rich")
    kwargs.setdefault("context_settings", {"help_option_names": ["-h", "--help"]})
    return MemtrainTyper(**kwargs)


def is_interactive() -> bool:
    return sys.stderr.isatty()
