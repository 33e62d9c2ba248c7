"""`clean_page`: a page's wikitext → `CleanPage` (clean prose, visible article links, section starts)."""

from __future__ import annotations

from dataclasses import dataclass, field

import mwparserfromhell

from memtrain_data.pipeline.extractors.wikitext.markup import (
    _BEHAVIOUR_SWITCH,
    _BOLD_ITALIC,
    _COMMENT,
    _FORMULA_BASE,
    _FORMULA_MARKER,
    _INVISIBLE,
    _LINE_BREAK,
    _LINE_BREAK_TAG,
    _LINK_BASE,
    _LINK_MARKERS,
    _LIST_ITEM,
    _LIST_MARKUP,
    _MARKED_LINK,
    _MATH,
    _NOWIKI,
    _PAIRED_DROPPED_TAG,
    _PLAIN_LINK,
    _SELF_CLOSED_DROPPED_TAG,
    _bold_italic_residue,
    _drop_back_matter,
    _drop_tables,
    _escaped_nowiki,
    _formulas,
    _link_targets,
    _plain_link_text,
    _simple_math,
)
from memtrain_data.pipeline.extractors.wikitext.paragraphs import _assemble_paragraphs, _mend_punctuation
from memtrain_data.pipeline.extractors.wikitext.render import _render
from memtrain_data.pipeline.extractors.wikitext.templates import _drop_templates

SECTION_STARTS_KEY = "section_starts"
"""Document metadata set by `WikitextExtractor`: `CleanPage.section_starts`."""


@dataclass
class CleanPage:
    """A page's clean prose with what the pool needs besides: its visible article links and its sections."""

    text: str
    """Paragraphs separated by a blank line ("" when nothing readable is left)."""
    links: list[tuple[str, str]] = field(default_factory=list)
    """`(target, anchor)` per visible article link, in reading order (see `clean_page`)."""
    section_starts: list[int] = field(default_factory=list)
    """Index (in `text.split("\\n\\n")`) of each paragraph that opens a section after the first."""


def clean_wikitext(wikitext: str, title: str = "") -> str:
    """Turn a page's wikitext into plain prose: paragraphs separated by a blank line.

    `title` stands in for `{{PAGENAME}}`. Returns "" when nothing readable is left (a page of
    templates only, say). Raises whatever mwparserfromhell raises on input it cannot parse.

    >>> clean_wikitext("'''Tarnvik''' is a town on the [[Sela River|Sela]].<ref>{{cite web|url=x}}</ref>")
    'Tarnvik is a town on the Sela.'
    """
    return clean_page(wikitext, title).text


def clean_page(wikitext: str, title: str = "") -> CleanPage:
    """`clean_wikitext`, with the page's article links visible in the text and its section starts.

    A link is `(target, anchor)`: the namespace-0 target in normal form (see
    `memtrain_data.pipeline.aliases.normalize_target`) and the link's visible text as it reads in
    the clean text, link trail included (`[[dog]]s` → "dogs"). Links in dropped parts (references,
    templates, captions, back matter), links to other namespaces or wikis, links to a section
    of the same page, and links whose text a line break splits over two lines are not listed.

    >>> clean_page("A [[canada|Canadian]] [[dog]]s.").links
    [('Canada', 'Canadian'), ('Dog', 'dogs')]
    """
    targets: list[str] = []
    formulas: list[str] = []
    token = _link_targets.set(targets)
    formulas_token = _formulas.set(formulas)
    try:
        text = _prepare(wikitext)
        code = mwparserfromhell.parse(text)
        pieces: list[str] = []
        _render(code.nodes, pieces, title)
        marked, section_starts = _assemble_paragraphs("".join(pieces))
    finally:
        _link_targets.reset(token)
        _formulas.reset(formulas_token)
    if formulas:
        marked = _FORMULA_MARKER.sub(lambda marker: formulas[ord(marker.group()) - _FORMULA_BASE], marked)
    if not targets:
        return CleanPage(marked, [], section_starts)
    links: list[tuple[str, str]] = []
    for match in _MARKED_LINK.finditer(marked):
        if "\n" in match.group(2):  # a <br> in the link's text: no one anchor reads in the clean text
            continue
        anchor = " ".join(_LINK_MARKERS.sub("", match.group(2)).split())
        if anchor:
            links.append((targets[ord(match.group(1)) - _LINK_BASE], anchor))
    text = _LINK_MARKERS.sub("", marked)
    if len(links) < len(targets) and ("  " in text or " ." in text or " ," in text):
        # a link whose text came out empty left its spaces behind
        text = "\n\n".join(_mend_punctuation(paragraph) for paragraph in text.split("\n\n"))
    return CleanPage(text, links, section_starts)


def _prepare(wikitext: str) -> str:
    """Remove, with regular expressions, what never reaches the output and resolve plain links."""
    text = "\n" + _INVISIBLE.sub("", wikitext)
    if "<!--" in text:
        text = _COMMENT.sub("", text)
    if "<" in text:
        text = _PAIRED_DROPPED_TAG.sub("", text)
        text = _SELF_CLOSED_DROPPED_TAG.sub("", text)
        # Before templates are matched: LaTeX and nowiki text may hold unbalanced braces.
        text = _MATH.sub(_simple_math, text)
        text = _NOWIKI.sub(_escaped_nowiki, text)
    if "__" in text:
        text = _BEHAVIOUR_SWITCH.sub("", text)
    text = _drop_back_matter(text)
    if "<" in text:  # after headings are read, which never hold a break
        text = _LINE_BREAK_TAG.sub(_LINE_BREAK, text)
    if "{{" in text:
        text = _drop_templates(text)
    if "{|" in text:
        text = _drop_tables(text)
    text = _LIST_MARKUP.sub("\n" + _LIST_ITEM, text)
    if "''" in text:
        text = _BOLD_ITALIC.sub(_bold_italic_residue, text)
    return _PLAIN_LINK.sub(_plain_link_text, text)
