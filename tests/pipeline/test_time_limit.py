"""time_limit: interrupts the parser, restores a previous alarm, still skips a slow page off the main thread."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import pytest

from memtrain_data.pipeline.extractors.wikitext import clean_wikitext
from memtrain_data.pipeline.time_limit import PageTimeout, time_limit

# '{{a|' repeated: unclosed templates make mwparserfromhell's tokenizer backtrack (cubic time).
# 1,500 of them take about 5 s to parse on one core; 300 take about 0.1 s.
PATHOLOGICAL_SLOW_PAGE = "{{a|" * 1500
PATHOLOGICAL_SHORT_PAGE = "{{a|" * 300

# --------------------------------------------------------------------------- time limit

needs_alarm = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="SIGALRM timers are POSIX-only")


@needs_alarm
def test_time_limit_interrupts_the_parser_on_a_pathological_page() -> None:
    # Run in a fresh process, as a pipeline worker is: a long-lived test worker may run this test
    # outside the state a worker has (the main thread with default signal handling).
    code = (
        "import time\n"
        "from memtrain_data.pipeline.extractors.wikitext import PageTimeout, clean_wikitext, time_limit\n"
        "started = time.process_time()\n"
        "try:\n"
        "    with time_limit(0.05):\n"
        f"        clean_wikitext({PATHOLOGICAL_SLOW_PAGE * 2!r})\n"
        "except PageTimeout as exc:\n"
        "    print('timeout', round(time.process_time() - started, 2), exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    word, cpu_seconds, *message = out.stdout.split()
    assert word == "timeout" and "interrupted after 0.05 s" in " ".join(message)
    assert float(cpu_seconds) < 2.0  # the page needs several CPU-seconds uninterrupted


@needs_alarm
def test_time_limit_restores_the_previous_alarm_handler_and_timer() -> None:
    fired: list[int] = []

    def previous_handler(signum: int, frame: object) -> None:
        fired.append(signum)

    old_handler = signal.signal(signal.SIGALRM, previous_handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with time_limit(5.0):
            clean_wikitext("A short page.")
        assert signal.getsignal(signal.SIGALRM) is previous_handler
        assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 0.5
        time.sleep(0.7)
        assert fired == [signal.SIGALRM]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)


def test_time_limit_outside_the_main_thread_skips_a_slow_page_after_it_ends() -> None:
    outcome: list[str] = []

    def clean_in_thread() -> None:
        try:
            with time_limit(0.01):
                clean_wikitext(PATHOLOGICAL_SHORT_PAGE)
            outcome.append("finished")
        except PageTimeout:
            outcome.append("timeout")

    thread = threading.Thread(target=clean_in_thread)
    thread.start()
    thread.join()
    assert outcome == ["timeout"]
