"""A per-page time limit (`time_limit`, raising `PageTimeout`) for cleaning and splitting pages.

Used by the wikitext extractor and by passage splitting, so it lives beside both in `pipeline`.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class PageTimeout(Exception):
    """Cleaning a page ran past its time limit."""


def _alarm_available() -> bool:
    """SIGALRM timers exist on POSIX and only the main thread may set signal handlers."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise `PageTimeout` inside the block once it has run for `seconds`.

    Uses a SIGALRM interval timer, which interrupts mwparserfromhell's C tokenizer too (it checks
    for signals). Where signals are unavailable (not the main thread, Windows) the block runs to
    the end and `PageTimeout` is raised after it if it took too long, so the page is still skipped.
    A timer already set by someone else (pytest-timeout, say) is re-armed afterwards.
    """
    if seconds <= 0:
        yield
        return
    started = time.monotonic()
    if not _alarm_available():
        yield
        if time.monotonic() - started > seconds:
            raise PageTimeout(f"took {time.monotonic() - started:.1f} s, over the {seconds:g} s limit")
        return

    def _on_alarm(signum: int, frame: object) -> None:
        raise PageTimeout(f"interrupted after {seconds:g} s")

    previous_handler = signal.signal(signal.SIGALRM, _on_alarm)
    # A library may have blocked SIGALRM in this thread (process pools do); the alarm would then
    # never arrive, so unblock it for the block and restore the mask afterwards.
    previous_mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay > 0:
            remaining = max(previous_delay - (time.monotonic() - started), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, remaining, previous_interval)
    # Belt and braces: a page that ran past the limit without being interrupted is still skipped.
    if time.monotonic() - started > seconds:
        raise PageTimeout(f"took {time.monotonic() - started:.1f} s, over the {seconds:g} s limit")
