"""Extracting the answer the agent put inside ``\\boxed{...}`` (MemAgent's extraction rules).

A reply is first cut to what follows its last ``</think>`` (a reasoning model's thoughts never
count as memory or answer; as in MemAgent, a reply with nothing after ``</think>`` is read whole).
The answer is then the content of the last box, in any of the three forms MemAgent's evaluation
accepts: ``\\boxed{...}`` (braces may nest), ``\\fbox{...}``, and ``\\boxed x`` (the text after
``\\boxed `` up to the next ``$`` or the end of the reply). Where several forms appear the last
one by position wins (MemAgent's code prefers a ``\\boxed x`` anywhere; replies with both are rare).
"""

from __future__ import annotations

_THINK_END = "</think>"
_BRACED = ("\\boxed{", "\\fbox{")
_SPACED = "\\boxed "


def strip_thinking(text: str) -> str:
    """The part of a reply after its last ``</think>`` (the whole reply when there is none)."""
    return text.rsplit(_THINK_END, 1)[-1].strip() if _THINK_END in text else text


def _braced_content(text: str, start: int, opener: str) -> str | None:
    depth = 1
    position = start + len(opener)
    while position < len(text) and depth:
        if text[position] == "{":
            depth += 1
        elif text[position] == "}":
            depth -= 1
        position += 1
    return text[start + len(opener) : position - 1].strip() if depth == 0 else None


def extract_boxed(text: str | None) -> str | None:
    """The content of the last complete box in `text` (after ``</think>``), or None when there is none.

    Braces inside the box may nest (``\\boxed{\\text{New York}}`` gives ``\\text{New York}``);
    a box that is never closed does not count, so an earlier complete box is returned instead.

    >>> extract_boxed("I think \\\\boxed{Paris}, no: \\\\fbox{Lyon}")
    'Lyon'
    >>> extract_boxed("$\\\\boxed 1889$ it is")
    '1889'
    >>> extract_boxed("no box") is None
    True
    """
    if not text:
        return None
    text = strip_thinking(text) or text
    # (position, content) of every complete box; the last one by position wins.
    found: list[tuple[int, str]] = []
    for opener in _BRACED:
        start = text.find(opener)
        while start != -1:
            content = _braced_content(text, start, opener)
            if content is not None:
                found.append((start, content))
            start = text.find(opener, start + len(opener))
    start = text.rfind(_SPACED)
    if start != -1:
        found.append((start, text[start + len(_SPACED) :].split("$")[0].strip()))
    return max(found)[1] if found else None
