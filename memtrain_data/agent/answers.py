"""Extracting the answer the agent put inside ``\\boxed{...}``."""

from __future__ import annotations

_BOX = "\\boxed{"


def extract_boxed(text: str | None) -> str | None:
    """The content of the last complete ``\\boxed{...}`` in `text`, or None when there is none.

    Braces inside the box may nest (``\\boxed{\\text{New York}}`` gives ``\\text{New York}``);
    a box that is never closed does not count, so an earlier complete box is returned instead.

    >>> extract_boxed("I think \\\\boxed{Paris}, no: \\\\boxed{Lyon}")
    'Lyon'
    >>> extract_boxed("no box") is None
    True
    """
    if not text:
        return None
    found: str | None = None
    start = text.find(_BOX)
    while start != -1:
        depth = 1
        position = start + len(_BOX)
        while position < len(text) and depth:
            if text[position] == "{":
                depth += 1
            elif text[position] == "}":
                depth -= 1
            position += 1
        if depth == 0:
            found = text[start + len(_BOX) : position - 1].strip()
        start = text.find(_BOX, start + len(_BOX))
    return found
