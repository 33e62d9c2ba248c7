"""Assembling rendered text into paragraphs: lines, list items, sections, lead-ins and punctuation."""

from __future__ import annotations

import html

from memtrain_data.pipeline.extractors.wikitext.markup import (
    _EMPTY_BRACKETS,
    _LETTER,
    _LINE_BREAK,
    _LINE_BREAK_TAG,
    _LINE_START,
    _LIST_ITEM,
    _ORPHAN_PUNCTUATION,
    _PARAGRAPH_BREAK,
    _PUNCT_AFTER_OPEN,
    _PUNCT_BEFORE_CLOSE,
    _REMOVED_BLOCK,
    _REPEATED_COMMA,
    _SECTION_MARK,
    _SENTENCE_BREAK,
    _SPACE_AFTER_OPEN,
    _SPACE_BEFORE_PUNCT,
    _STRAY_BRACKETS,
    _STRAY_TAG,
    _STRAY_TEMPLATE,
)


def _assemble_paragraphs(rendered: str) -> tuple[str, list[int]]:
    """Blank lines and headings split paragraphs; plain lines join with a space (as MediaWiki
    renders them), list items and lines after a line break stay one per line. Also returns the
    index of each paragraph that opens a section (the first one after a heading).

    A lead-in (a sentence ending in ":") whose content was removed is dropped: one followed by a
    removed table or block template, or one that ends its section.
    """
    paragraphs: list[str] = []
    section_starts: list[int] = []
    rendered = _tidy(rendered)
    if _LINE_BREAK in rendered:  # every line break opens a line, marked at its start
        rendered = _LINE_START.sub("\n" + _LINE_BREAK, rendered)
    for block in _PARAGRAPH_BREAK.split(rendered):
        if _SECTION_MARK in block:
            _drop_trailing_lead_in(paragraphs)
            if not section_starts or section_starts[-1] != len(paragraphs):
                section_starts.append(len(paragraphs))
            block = block.replace(_SECTION_MARK, "")
        lines: list[str] = []
        previous_is_plain = False
        for raw_line in block.split("\n"):
            after_break = raw_line.startswith(_LINE_BREAK)
            if after_break:
                raw_line = raw_line[1:]
            removed = _REMOVED_BLOCK in raw_line
            if removed:  # only a cut at the end of a line can take a lead-in's content
                removed = raw_line.rstrip(" \t").endswith(_REMOVED_BLOCK)
                raw_line = raw_line.replace(_REMOVED_BLOCK, "")
            is_item = raw_line.lstrip(" ").startswith(_LIST_ITEM)
            line = " ".join(raw_line.split())  # also removes the list-item marker, a whitespace to str.split
            if line[:1] in (",", ".", ";", ":"):  # what is left of a line that began with a template
                line = _ORPHAN_PUNCTUATION.sub("", line)
            if removed and not line and lines and lines[-1].endswith(":"):
                _drop_lead_in(lines)
                previous_is_plain = bool(lines)
            if not line:
                if after_break:  # "A<br>" then "B" on the next line: B still starts a line
                    previous_is_plain = False
                continue
            if not is_item and not after_break and previous_is_plain:
                lines[-1] = f"{lines[-1]} {line}"
            else:
                lines.append(line)
            previous_is_plain = not is_item
            if removed and line.endswith(":"):
                _drop_lead_in(lines)
                previous_is_plain = bool(lines)
        if lines and _LETTER.search(block):
            paragraphs.append(_mend_punctuation("\n".join(lines)))
    _drop_trailing_lead_in(paragraphs)
    while section_starts and section_starts[-1] >= len(paragraphs):
        section_starts.pop()
    return "\n\n".join(paragraphs), [start for start in section_starts if start > 0]


def _drop_lead_in(lines: list[str]) -> None:
    """Remove the last sentence of the last line (a lead-in ending in ":"), and the line if nothing is left."""
    line = lines[-1]
    breaks = list(_SENTENCE_BREAK.finditer(line))
    kept = line[: breaks[-1].end()].rstrip() if breaks else ""
    if kept:
        lines[-1] = kept
    else:
        lines.pop()


def _drop_trailing_lead_in(paragraphs: list[str]) -> None:
    """A paragraph that ends a section with a lead-in has lost what followed it (a table, a list template)."""
    if paragraphs and paragraphs[-1].endswith(":"):
        lines = paragraphs[-1].split("\n")
        _drop_lead_in(lines)
        if lines and _LETTER.search("\n".join(lines)):
            paragraphs[-1] = "\n".join(lines)
        else:
            paragraphs.pop()


def _tidy(text: str) -> str:
    """Decode leftover entities and drop markup that broken wikitext left behind as text."""
    if "&" in text:
        text = html.unescape(text)
    if "{{" in text:
        text = _STRAY_TEMPLATE.sub("", text)
    if "{{" in text or "}}" in text or "[[" in text or "]]" in text:
        text = _STRAY_BRACKETS.sub("", text)
    if "<" in text:
        text = _LINE_BREAK_TAG.sub(_LINE_BREAK, text)  # `&lt;br&gt;`, only decoded above
        text = _STRAY_TAG.sub("", text)
    return text


def _mend_punctuation(paragraph: str) -> str:
    """Mend spacing and punctuation where removed nodes left gaps: "word ." "( ; born" "()"."""
    if "(" in paragraph or "[" in paragraph:
        paragraph = _EMPTY_BRACKETS.sub("", paragraph)
        paragraph = _PUNCT_AFTER_OPEN.sub(r"\1", paragraph)
        paragraph = _SPACE_AFTER_OPEN.sub(r"\1", paragraph)
        paragraph = _PUNCT_BEFORE_CLOSE.sub("", paragraph)
    paragraph = _SPACE_BEFORE_PUNCT.sub(r"\1", paragraph)
    if ", ," in paragraph or ",," in paragraph:
        paragraph = _REPEATED_COMMA.sub(",", paragraph)
    return paragraph.replace("  ", " ").strip()
