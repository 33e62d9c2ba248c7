"""MediaWiki wikitext → clean plain prose, and the datatrove step that applies it to pages.

`clean_wikitext` keeps what a reader sees as article prose and drops everything else:

* dropped with their content: `<ref>` (plain and named), `<references/>`, templates (infoboxes,
  navboxes, citations, hatnotes, maintenance tags), tables (`{| … |}` and `<table>`),
  files/images with their captions, categories, interlanguage links, HTML comments,
  behaviour switches (`__NOTOC__`), parser functions, and the tags whose content is not prose:
  `<gallery>`, `<timeline>`, `<imagemap>`, `<score>`, `<graph>`, `<syntaxhighlight>`/`<source>`,
  `<pre>`, `<includeonly>`, `<templatedata>`, `<mapframe>`, `<hiero>`;
* kept as their text: link text (`[[a|b]]` → b, `[[a]]` → a, `[[a]]s` → as, `[[Foo (bar)|]]` → Foo),
  labelled external links (`[http://x label]` → label; bare and unlabelled URLs are dropped),
  the content of formatting tags (`<b>`, `<i>`, `<span>`, `<sup>`, `<small>`, `<blockquote>`,
  `<nowiki>` …), bold/italic markup, HTML entities (decoded),
  `<math>` as its TeX source, and the inline templates that stand for words in a sentence
  (`{{convert}}` with its conversion, `{{coord}}`, `{{lang}}`, `{{angbr}}`, flag-style templates,
  `{{as of}}`, `{{birth date}}`, `{{nowrap}}`, `{{frac}}`, `{{chem}}` …): `_INLINE_TEMPLATES` is
  the table, one renderer per template name, and extending it is adding a line;
* lists keep their structure, so the names of adjacent items never run together: list items
  (`*`, `#`, `;`, `:`, `<li>`) stay one per line, and so do the lines after a line break
  (`<br>` in any of its spellings, an HTML block such as `<div>` or `<p>`, a line of a
  `<poem>`); in a template argument, which renders on one line, items and lines are joined with
  "; ", and list templates (`{{hlist}}`, `{{plainlist}}`, `{{ubl}}` …) join theirs with ", ";
* headings end a paragraph and are not text (`CleanPage.section_starts` records where each
  section starts); back-matter sections (References, Notes, See also, External links,
  Further reading, Bibliography, Sources, Editions …) are dropped whole; a lead-in sentence
  ending in ":" whose content was cut (a table, a block template, the end of its section) is
  dropped with it.

`clean_page` also lists the page's visible article links as (target, anchor text), for the
pool's alias table.

Output paragraphs are separated by a blank line ("\\n\\n"); inside a paragraph, list items and
lines after a line break are separated by "\\n". For speed, comments, refs, non-prose tags,
back matter, tables, line breaks, list and bold/italic markup and plain links are handled with
regular expressions before mwparserfromhell parses what is left (templates, namespaced links,
tags, external links, entities): its tokenizer spends most of its time on exactly those
constructs (a wikilink costs it ~35 µs), and this cuts a page's parse from ~60 ms to ~6 ms on
enwiki pages.
"""

from __future__ import annotations

import functools
import html
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import mwparserfromhell
from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from mwparserfromhell.nodes import (
    Argument,
    Comment,
    ExternalLink,
    Heading,
    HTMLEntity,
    Node,
    Tag,
    Template,
    Text,
    Wikilink,
)
from mwparserfromhell.wikicode import Wikicode

from memtrain_data.pipeline.aliases import ALIAS_ONLY_KEY, ALIASES_KEY, ANCHOR, article_target

__all__ = [
    "BACK_MATTER_SECTIONS",
    "SECTION_STARTS_KEY",
    "CleanPage",
    "PageTimeout",
    "WikitextExtractor",
    "clean_page",
    "clean_wikitext",
    "time_limit",
]  # fmt: skip

# Section titles (lowercased) whose sections are reference lists, link lists or bibliographies.
# "Other websites" and "Related pages" are Simple English Wikipedia's names for them.
BACK_MATTER_SECTIONS: frozenset[str] = frozenset({
    "references", "reference", "notes", "footnotes", "citations", "sources", "source",
    "notes and references", "references and notes", "notes and citations", "citations and notes",
    "references and sources", "sources and references", "works cited", "cited works",
    "bibliography", "select bibliography", "selected bibliography", "further reading",
    "see also", "external links", "external link", "external links and references",
    "other websites", "related pages", "gallery", "image gallery",
    "editions", "reference literature", "etymological bibliography", "primary sources", "secondary sources",
    "references and further reading", "notes and sources", "sources and further reading", "further information",
    "external resources", "online resources", "reference works", "bibliography and further reading",
    "selected works", "selected publications", "literature cited", "general bibliography", "list of works",
})  # fmt: skip
# Other titles count as back matter when made only of these words and one of the core ones:
# "Notes, references and sources", "General references", "Further reading and external links".
_BACK_MATTER_WORDS: frozenset[str] = frozenset({
    "references", "reference", "notes", "footnotes", "citations", "sources", "bibliography",
    "further", "reading", "see", "also", "external", "links", "and", "works", "cited", "general",
    "other", "websites", "related", "pages", "selected", "select", "explanatory", "online",
    "editions", "etymological", "primary", "secondary", "resources", "literature", "information",
})  # fmt: skip
_BACK_MATTER_CORE: frozenset[str] = frozenset({
    "references", "reference", "notes", "footnotes", "citations", "sources", "bibliography", "reading", "links",
    "editions",
})  # fmt: skip
_WORD = re.compile(r"[a-z]+")

# Tags whose whole content is markup, code, media or hidden text, never article prose.
_DROPPED_TAGS: frozenset[str] = frozenset({
    "ref", "references", "gallery", "timeline", "imagemap", "score", "graph", "mapframe",
    "maplink", "templatedata", "templatestyles", "syntaxhighlight", "source", "pre",
    "hiero", "inputbox", "categorytree", "includeonly", "ce", "chem", "charinsert",
    "section", "indicator", "table", "tr", "td", "th", "caption", "tbody", "thead", "tfoot",
    "style", "script", "noscript",
})  # fmt: skip
_HIDDEN_LINK_NAMESPACES: frozenset[str] = frozenset({"file", "image", "media", "category"})
_SPECIAL_LANGUAGE_CODES: frozenset[str] = frozenset({"simple", "classical", "tokipona"})
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*")

_DROPPED_TAG_NAMES = "|".join(sorted(_DROPPED_TAGS - {"table", "tr", "td", "th", "caption", "tbody", "thead", "tfoot"}))
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
# A paired tag: `<ref name="a/b">…</ref>`; the lookbehind keeps `<ref name=x/>` out of it. The
# content may not hold another opening of the same tag, so an unclosed `<ref>` stops the scan at
# the next `<ref` instead of reading to the end of the page for each one (quadratic time on a
# page of unclosed tags, and CPython's regex engine cannot be interrupted by the time limit).
_PAIRED_DROPPED_TAG = re.compile(rf"<({_DROPPED_TAG_NAMES})\b[^<>]*?(?<!/)>(?:(?!<\1\b).)*?</\1\s*>", re.S | re.I)
_SELF_CLOSED_DROPPED_TAG = re.compile(rf"<(?:{_DROPPED_TAG_NAMES})\b[^<>]*/\s*>", re.I)
_BEHAVIOUR_SWITCH = re.compile(r"__[A-Z]{2,}__")
# Line-start patterns begin with "\n" rather than "^" under re.M: a literal first character lets
# the regex engine skip ahead, ~20x faster; `_prepare` puts a "\n" before the first line.
_HEADING_LINE = re.compile(r"\n(={1,6})[ \t]*([^\n]+?)[ \t]*\1[ \t]*(?=\n|\Z)")
_HEADING_MARKUP = re.compile(r"'{2,}|<[^>]*>|\[\[(?:[^|\]]*\|)?|\]\]")
# `[[target]]` or `[[target|text]]` with no namespace, nesting or tags (nor a `<br>` in the
# target, marked by then): by far the most common node in articles, and cheap to resolve here.
_PLAIN_LINK = re.compile(r"\[\[([^\[\]{}|<>\n:\ue004]+)(?:\|([^\[\]{}|<>\n]*))?\]\]([a-z]+)?")
# English Wikipedia's link trail: letters right after `]]` are shown as part of the link text.
_LINK_TRAIL = re.compile(r"[a-z]+")
_MATH = re.compile(r"<math\b[^<>]*?(?<!/)>((?:(?!<math\b).)*?)</math\s*>", re.S | re.I)
_NOWIKI = re.compile(r"<nowiki\s*/>|<nowiki\s*>((?:(?!<nowiki\b).)*?)</nowiki\s*>", re.S | re.I)
_NOWIKI_ESCAPES = str.maketrans({"{": "&#123;", "}": "&#125;", "[": "&#91;", "]": "&#93;", "<": "&lt;", ">": "&gt;", "'": "&#39;", "|": "&#124;"})
_TEMPLATE_EDGE = re.compile(r"\{\{|\}\}")
_TEMPLATE_NAME = re.compile(r"\{\{\s*([^{}|]*)")
_TABLE_EDGE = re.compile(r"\n[ \t]*(\{\||\|\})")
_LIST_MARKUP = re.compile(r"\n[*#:;]+")
_BOLD_ITALIC = re.compile(r"'{2,}")
_PIPE_TRICK_SUFFIX = re.compile(r"\s*(?:\([^()]*\)|,.*)$")
_FORMULA_BASE = 0x100000  # plane-16 private-use characters stand for set-aside formulas
_MAX_FORMULAS = 0x10FFFD - _FORMULA_BASE
_FORMULA_MARKER = re.compile(r"[\U00100000-\U0010fffd]")
_DOUBLED_BRACKET = re.compile(r"([\[\]{}])(?=\1)")
_formulas: ContextVar[list[str] | None] = ContextVar("memtrain_formulas", default=None)
_TEX_SPACING = re.compile(r"\\[,;:!> ]|\\q?quad\b|\\displaystyle\b|\\textstyle\b")
_SIMPLE_MATH = re.compile(r"[\w\s.,=+\-−×·/()<>:'|%]{1,60}")

_LIST_ITEM = "\x1f"  # marks the start of a list item until paragraphs are assembled
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\x1f]*\n")
# NUL would end the C tokenizer's input early; the others are invisible or our list marker.
_INVISIBLE = re.compile(r"[\x00\u200b\u200e\u200f\ufeff\x1f\ue001-\ue004\U000f0000-\U0010fffd]")
_SECTION_MARK = "\ue002"  # a heading, until paragraphs are assembled
_REMOVED_BLOCK = "\ue003"  # where a table or a block template was cut, until paragraphs are assembled
# A line break (`<br>`, an HTML list item, a line of a poem), until paragraphs are assembled: the
# text after it starts a line, so the items it separates never run together; in a template
# argument, rendered on one line, it becomes "; ".
_LINE_BREAK = "\ue004"
_LINE_BREAK_TAG = re.compile(r"</?br\b[^<>]*>", re.I)  # <br>, <br/>, <br />, </br>, <br clear=all>
_LINE_START = re.compile(r"(?:\n[ \t]*)?\ue004")  # a line break, with the newline that may already end its line
_ITEM_BOUNDARY = re.compile(r"[\x1f\ue004]")  # where an item or a line of a template argument starts
_POEM_LINE_END = re.compile(r"(?<!\n)\n(?!\n)")  # not a blank line: a poem's stanzas stay paragraphs
# HTML tags that MediaWiki shows as a block of their own: their content starts a line, and so does what follows.
_BLOCK_TAGS: frozenset[str] = frozenset({"li", "dt", "dd", "ul", "ol", "dl", "div", "p", "center"})
_SENTENCE_BREAK = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
# A link's visible text is wrapped in markers while the page is cleaned: a start marker that
# numbers the link (a plane-15 private-use character, chr(_LINK_BASE + n)) and `_LINK_END`, so
# the anchor is read from the finished clean text, exactly as it reads there. Both are removed
# from the input first (`_INVISIBLE`) and from the output after the anchors are read.
_LINK_BASE = 0xF0000
_MAX_MARKED_LINKS = 0xFFFFD - _LINK_BASE
_LINK_END = "\ue001"
_MARKED_LINK = re.compile(r"([\U000f0000-\U000ffffd])([^\ue001]*)\ue001")
_LINK_MARKERS = re.compile(r"[\ue001\U000f0000-\U000ffffd]")
_link_targets: ContextVar[list[str] | None] = ContextVar("memtrain_link_targets", default=None)
_STRAY_TEMPLATE = re.compile(r"\{\{[^{}]*\}\}")
_STRAY_BRACKETS = re.compile(r"\{\{|\}\}|\[\[|\]\]")
_STRAY_TAG = re.compile(r"</?(?:ref|references|span|div|small|big|sup|sub|center|font|nowiki|onlyinclude|noinclude)\b[^<>]*>", re.I)
_EMPTY_BRACKETS = re.compile(r"\([ ,;:–—\-/]*\)|\[ ?\]")
_PUNCT_AFTER_OPEN = re.compile(r"([(\[])[ ,;:]*[,;:] ?")
_PUNCT_BEFORE_CLOSE = re.compile(r"[,;:][ ,;:]*(?=[)\]])")
_SPACE_BEFORE_PUNCT = re.compile(r" ([,.;:!?)\]])")
_SPACE_AFTER_OPEN = re.compile(r"([(\[]) ")
_ORPHAN_PUNCTUATION = re.compile(r"^[,.;:]+ ")
_REPEATED_COMMA = re.compile(r",(?:\s*,)+")
_LETTER = re.compile(r"[^\W\d_]")


SECTION_STARTS_KEY = "section_starts"
"""Document metadata set by `WikitextExtractor`: `CleanPage.section_starts`."""


class PageTimeout(Exception):
    """Cleaning a page ran past its time limit."""


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


_cached_article_target = functools.lru_cache(maxsize=65_536)(article_target)


def _mark_link(target: str, shown: str) -> str:
    """`shown` wrapped in link markers when `target` names an article, else `shown` as it is."""
    targets = _link_targets.get()
    core = shown.strip()
    if targets is None or not core or len(targets) >= _MAX_MARKED_LINKS:
        return shown
    article = _cached_article_target(target)
    if article is None:
        return shown
    targets.append(article)
    before = shown[: len(shown) - len(shown.lstrip())]
    after = shown[len(shown.rstrip()) :]
    return f"{before}{chr(_LINK_BASE + len(targets) - 1)}{core}{_LINK_END}{after}"


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


def _simple_math(match: re.Match[str]) -> str:
    """Keep a formula as its TeX source on one line (`\\frac{a}{b}`): it reads as a formula.

    A formula that is plain text (`x = 2`) stays in place. Any other is set aside and a marker
    stands in for it until the page is assembled, so no later pass (templates, links, stray
    markup) touches the TeX; doubled brackets and braces get a space between them, which TeX
    ignores, so the text never holds `[[` or `{{`. Spacing commands are dropped.
    """
    formula = " ".join(_TEX_SPACING.sub(" ", match.group(1)).split()).rstrip(" ,.")
    formulas = _formulas.get()
    if _SIMPLE_MATH.fullmatch(formula) or formulas is None:
        return formula
    if not formula or len(formulas) >= _MAX_FORMULAS:
        return ""
    formulas.append(_DOUBLED_BRACKET.sub(r"\1 ", formula))
    return chr(_FORMULA_BASE + len(formulas) - 1)


def _escaped_nowiki(match: re.Match[str]) -> str:
    """Nowiki text is shown as written: escape what the parser would read as markup."""
    return (match.group(1) or "").translate(_NOWIKI_ESCAPES)


def _template_key(name: str) -> str:
    """'Template:Birth_date ' → 'birth date': template names ignore case, spaces and underscores."""
    return " ".join(name.replace("_", " ").split()).lower().removeprefix("template:")


# Parser functions whose output is their argument's text: {{formatnum:1234}}, {{ucfirst:word}}.
_TEXT_PARSER_FUNCTIONS = frozenset({"formatnum", "lc", "uc", "lcfirst", "ucfirst"})


def _is_inline_template(key: str) -> bool:
    return (
        key in _INLINE_TEMPLATES
        or key.startswith("lang-")
        or key in _PAGE_NAME_TEMPLATES
        or key.partition(":")[0] in _TEXT_PARSER_FUNCTIONS
    )


def _drop_templates(text: str) -> str:
    """Cut every outermost `{{…}}` except the inline templates that render as words.

    Building template nodes (with all their parameters) is most of what is left of the parse
    time, and almost all of them (infoboxes, navboxes, citations, hatnotes) are dropped anyway.
    An unclosed `{{` is left in place; the parser and `_tidy` deal with it.
    """
    kept: list[str] = []
    keep_from = 0
    depth = 0
    template_start = 0
    for edge in _TEMPLATE_EDGE.finditer(text):
        if edge.group() == "{{":
            if depth == 0:
                template_start = edge.start()
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                name = _TEMPLATE_NAME.match(text, template_start)
                if name is None or not _is_inline_template(_template_key(name.group(1))):
                    kept.append(text[keep_from:template_start])
                    if template_start and text[template_start - 1] == "\n":  # a block template: its line is gone
                        kept.append(_REMOVED_BLOCK)
                    keep_from = edge.end()
    kept.append(text[keep_from:])
    return "".join(kept)


def _drop_tables(text: str) -> str:
    """Cut `{| … |}` tables, nested ones included, from their first line to their last.

    Table markup is line-based (a table opens on a line starting with "{|" and closes on one
    starting with "|}"), so lines are enough; a table left open is left to the parser.
    """
    kept: list[str] = []
    keep_from = 0
    depth = 0
    table_start = 0
    for row in _TABLE_EDGE.finditer(text):
        if row.group(1) == "{|":
            if depth == 0:
                table_start = row.start()
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                kept.append(text[keep_from:table_start] + "\n" + _REMOVED_BLOCK)
                line_end = text.find("\n", row.end())
                keep_from = len(text) if line_end < 0 else line_end
    kept.append(text[keep_from:])
    return "".join(kept)


def _bold_italic_residue(match: re.Match[str]) -> str:
    """MediaWiki reads 2, 3 and 5 quotes as markup; 4 as an apostrophe then bold; more as extra apostrophes."""
    count = len(match.group())
    if count == 4:
        return "'"
    return "'" * (count - 5) if count > 5 else ""


def _heading_key(heading: str) -> str:
    return " ".join(_HEADING_MARKUP.sub("", heading).lower().split()).rstrip(":")


def _is_back_matter(key: str) -> bool:
    if key in BACK_MATTER_SECTIONS:
        return True
    words = set(_WORD.findall(key))
    return words <= _BACK_MATTER_WORDS and not words.isdisjoint(_BACK_MATTER_CORE)


def _drop_back_matter(text: str) -> str:
    """Cut every back-matter section, with its subsections, up to the next heading of its level."""
    kept: list[str] = []
    keep_from = 0
    dropping_level: int | None = None
    for heading in _HEADING_LINE.finditer(text):
        level = len(heading.group(1))
        if dropping_level is not None:
            if level > dropping_level:
                continue
            dropping_level = None
            keep_from = heading.start()
        if _is_back_matter(_heading_key(heading.group(2))):
            kept.append(text[keep_from : heading.start()])
            dropping_level = level
    if dropping_level is None:
        kept.append(text[keep_from:])
    return "\n".join(kept)


def _plain_link_text(match: re.Match[str]) -> str:
    target, shown, trail = match.group(1), match.group(2), match.group(3) or ""
    if shown is None:
        shown = target.strip()
    elif not shown.strip():  # the pipe trick: [[Tarn (river)|]] shows "Tarn"
        shown = _PIPE_TRICK_SUFFIX.sub("", target.strip())
    if trail and shown and not shown[-1].isspace():
        return _mark_link(target, shown + trail)
    return _mark_link(target, shown) + trail


def _render(nodes: list[Node], out: list[str], title: str) -> None:
    """Append the visible prose of `nodes` to `out` (in order of node frequency, for speed)."""
    after_marked_link = False
    for node in nodes:
        if isinstance(node, Text):
            value = node.value
            if after_marked_link and (trail := _LINK_TRAIL.match(value)):
                out.insert(len(out) - 1, trail.group())  # inside the link's end marker
                value = value[trail.end() :]
            out.append(value)
            after_marked_link = False
            continue
        after_marked_link = False
        if isinstance(node, Tag):
            _render_tag(node, out, title)
        elif isinstance(node, Wikilink):
            after_marked_link = _render_link(node, out, title)
        elif isinstance(node, Template):
            rendered = _render_template(node, title)
            if rendered:
                out.append(rendered)
        elif isinstance(node, HTMLEntity):
            out.append(node.normalize())
        elif isinstance(node, Heading):
            out.append(f"\n\n{_SECTION_MARK}\n\n")
        elif isinstance(node, ExternalLink):
            if node.title is not None and node.brackets:
                _render(node.title.nodes, out, title)
        elif isinstance(node, (Comment, Argument)):
            continue


def _render_str(code: Wikicode | None, title: str) -> str:
    """`code` as one line of text: list items and lines broken by `<br>` are joined with "; "."""
    return "; ".join(_render_items(code, title))


def _render_items(code: Wikicode | None, title: str) -> list[str]:
    """`code` as text, one entry per list item or line broken by `<br>` (nothing when empty)."""
    if code is None:
        return []
    out: list[str] = []
    _render(code.nodes, out, title)
    text = "".join(out)
    if _LIST_ITEM not in text and _LINE_BREAK not in text:
        line = " ".join(text.split())
        return [line] if line else []
    items = (" ".join(item.split()) for item in _ITEM_BOUNDARY.split(text))
    return [item for item in items if item]


def _render_link(link: Wikilink, out: list[str], title: str) -> bool:
    """Append the link's visible text; True when it is marked as an article link (its end marker last in `out`)."""
    target = str(link.title).strip()
    if target.startswith(":"):  # [[:Category:X|…]] is an inline link, shown as text
        shown = _rendered(link.text, title) if link.text is not None else target[1:]
        return _append_link(target, shown, out)
    prefix, colon, _ = target.partition(":")
    if colon:
        namespace = prefix.strip()
        if namespace.lower() in _HIDDEN_LINK_NAMESPACES:
            return False
        # Interlanguage links ([[de:Tarnvik]]) never carry display text; [[ABC: A film]] does not
        # match a lowercase code, and [[wikt:word|word]] has text.
        if link.text is None and (_LANGUAGE_CODE.fullmatch(namespace) or namespace in _SPECIAL_LANGUAGE_CODES):
            return False
    if link.text is None:
        shown = _rendered(link.title, title)
    elif not str(link.text).strip():
        shown = _PIPE_TRICK_SUFFIX.sub("", target.rpartition(":")[2] if colon else target)
    else:
        shown = _rendered(link.text, title)
    return _append_link(target, shown, out)


def _rendered(code: Wikicode, title: str) -> str:
    parts: list[str] = []
    _render(code.nodes, parts, title)
    return "".join(parts)


def _append_link(target: str, shown: str, out: list[str]) -> bool:
    marked = _mark_link(target, shown)
    if not marked.rstrip().endswith(_LINK_END):
        out.append(marked)
        return False
    if marked.endswith(_LINK_END):
        out.append(marked[: -len(_LINK_END)])
        out.append(_LINK_END)
        return True
    out.append(marked)  # text ends in spaces: no link trail can follow
    return False


def _render_tag(tag: Tag, out: list[str], title: str) -> None:
    name = str(tag.tag).strip().lower()
    if tag.wiki_markup:
        if name in ("li", "dt", "dd"):
            out.append(_LIST_ITEM)
        elif name == "hr":
            out.append("\n\n")
        elif name != "table" and tag.contents is not None:
            _render(tag.contents.nodes, out, title)  # '''bold''', ''italic''
        return
    if name in _DROPPED_TAGS:
        return
    if name == "br":  # `_prepare` marks line breaks before parsing; this is one it missed
        out.append(_LINE_BREAK)
    elif name in _BLOCK_TAGS:
        out.append(_LINE_BREAK)
        # mwparserfromhell reads an unclosed `<li>` as self-closing: the break before its text is enough
        if tag.contents is not None and not tag.self_closing:
            _render(tag.contents.nodes, out, title)
            out.append(_LINE_BREAK)
    elif name == "poem":  # the poem extension shows every line of its text as a line
        if tag.contents is not None:
            lines: list[str] = []
            _render(tag.contents.nodes, lines, title)
            out.append(_POEM_LINE_END.sub(_LINE_BREAK, "".join(lines)))
    elif name == "hr":
        out.append("\n\n")
    elif name == "math":  # only left when `_prepare` could not pair it
        return
    elif tag.contents is not None and not tag.self_closing:
        _render(tag.contents.nodes, out, title)


# ---------------------------------------------------------------------------------------------
# Inline templates that stand for words of a sentence; every other template is dropped.

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip
_RANGE_WORDS = {"-": "–", "–": "–", "to": " to ", "and": " and ", "or": " or ", "&": " & ", "x": " × ", "by": " by ", "+/-": " ± ", "±": " ± "}
_UNITS = {"km2": "km²", "m2": "m²", "mi2": "sq mi", "sqmi": "sq mi", "ft2": "sq ft", "sqft": "sq ft", "km3": "km³",
          "m3": "m³", "C": "°C", "F": "°F", "e6km2": "million km²", "e6sqmi": "million sq mi", "acre": "acres"}  # fmt: skip


def _args(template: Template, title: str) -> list[str]:
    """Rendered positional parameters."""
    return [_render_str(param.value, title) for param in template.params if not param.showkey]


def _named(template: Template, name: str, title: str) -> str:
    return _render_str(template.get(name).value, title) if template.has(name) else ""


def _first(template: Template, title: str) -> str:
    args = _args(template, title)
    return args[0] if args else ""


def _last(template: Template, title: str) -> str:
    args = _args(template, title)
    return args[-1] if args else ""


def _format_date(parts: list[str], day_first: bool) -> str:
    """'1950', '3', '4' → 'March 4, 1950' (or '4 March 1950'); anything unusual is joined as given."""
    parts = [p for p in parts[:3] if p]
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    if not parts[1].isdecimal() or not 1 <= int(parts[1]) <= 12:
        return " ".join(parts)
    month = _MONTHS[int(parts[1]) - 1]
    if len(parts) == 2:
        return f"{month} {parts[0]}"
    return f"{parts[2]} {month} {parts[0]}" if day_first else f"{month} {parts[2]}, {parts[0]}"


def _date_template(template: Template, title: str) -> str:
    day_first = _named(template, "df", title).lower() in {"y", "yes", "1", "true"}
    return _format_date(_args(template, title), day_first)


# Conversions that {{convert}} shows in brackets: unit → (factor, shown unit, other unit's name).
# Only the common ones; any other unit is shown as given, without a conversion.
_CONVERSIONS: dict[str, tuple[float, str, str]] = {
    "km": (0.621371, "km", "mi"), "mi": (1.609344, "mi", "km"), "m": (3.28084, "m", "ft"), "ft": (0.3048, "ft", "m"),
    "cm": (0.393701, "cm", "in"), "in": (2.54, "in", "cm"), "mm": (0.0393701, "mm", "in"),
    "kg": (2.20462, "kg", "lb"), "lb": (0.453592, "lb", "kg"), "t": (1.10231, "t", "short tons"),
    "km2": (0.386102, "km²", "sq mi"), "sqmi": (2.58999, "sq mi", "km²"), "mi2": (2.58999, "sq mi", "km²"),
    "ha": (2.47105, "ha", "acres"), "acre": (0.404686, "acres", "ha"), "m2": (10.7639, "m²", "sq ft"),
    "km/h": (0.621371, "km/h", "mph"), "mph": (1.609344, "mph", "km/h"), "l": (0.264172, "L", "US gal"),
    "L": (0.264172, "L", "US gal"),
}  # fmt: skip
_TEMPERATURES = {"C": ("°C", "°F", lambda c: c * 9 / 5 + 32), "F": ("°F", "°C", lambda f: (f - 32) * 5 / 9)}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _converted(value: str, unit: str) -> str:
    """'10', 'km' → '10 km (6.2 mi)'; a unit or value it cannot convert is shown as given."""
    number = value.replace(",", "")
    if unit in _TEMPERATURES and _NUMBER.fullmatch(number):
        shown, other, convert = _TEMPERATURES[unit]
        return f"{value} {shown} ({_round_like(convert(float(number)), number)} {other})"
    if unit in _CONVERSIONS and _NUMBER.fullmatch(number):
        factor, shown, other = _CONVERSIONS[unit]
        return f"{value} {shown} ({_round_like(float(number) * factor, number)} {other})"
    return f"{value} {_UNITS.get(unit, unit)}"


def _round_like(number: float, written: str) -> str:
    """Round to as many significant digits as the value was written with (at least two)."""
    digits_written = written.lstrip("-")
    digits_written = digits_written.replace(".", "").lstrip("0") if "." in digits_written else digits_written.strip("0")
    digits = max(2, len(digits_written))  # trailing zeros of a whole number are not significant
    rounded = float(f"{number:.{digits}g}")
    return f"{rounded:,.0f}" if rounded.is_integer() and abs(rounded) >= 1 else f"{rounded:,g}"


def _convert(template: Template, title: str) -> str:
    args = _args(template, title)
    if len(args) >= 4 and args[1].lower() in _RANGE_WORDS:
        return f"{args[0]}{_RANGE_WORDS[args[1].lower()]}{args[2]} {_UNITS.get(args[3], args[3])}"
    if len(args) >= 2:
        return _converted(args[0], args[1])
    return args[0] if args else ""


_HEMISPHERES = {"N", "S", "E", "W"}


def _coordinate(template: Template, title: str) -> str:
    """{{coord|28|31|N|80|39|W}} → '28°31′N 80°39′W'; {{coord|28.5|-80.6}} → '28.5°N 80.6°W'."""
    args = [arg for arg in _args(template, title) if ":" not in arg and "=" not in arg]  # drop display/type args
    letters = [i for i, arg in enumerate(args) if arg.upper() in _HEMISPHERES]
    if len(letters) >= 2:
        first, second = letters[0], letters[1]
        latitude = _dms(args[:first]) + args[first].upper()
        longitude = _dms(args[first + 1 : second]) + args[second].upper()
        return f"{latitude} {longitude}"
    numbers = [arg for arg in args if _NUMBER.fullmatch(arg)]
    if len(numbers) >= 2:
        lat, lon = float(numbers[0]), float(numbers[1])
        return f"{abs(lat):g}°{'N' if lat >= 0 else 'S'} {abs(lon):g}°{'E' if lon >= 0 else 'W'}"
    return ""


def _dms(parts: list[str]) -> str:
    return "".join(f"{part}{mark}" for part, mark in zip(parts[:3], ("°", "′", "″"), strict=False))


def _flag_athlete(template: Template, title: str) -> str:
    args = _args(template, title)
    return f"{args[0]} ({args[1]})" if len(args) >= 2 else _first(template, title)


def _joined(separator: str) -> Callable[[Template, str], str]:
    return lambda template, title: separator.join(arg for arg in _args(template, title) if arg)


def _list_items(template: Template, title: str) -> str:
    """{{hlist|A|B}}, {{plainlist|* A * B}} and {{ubl|A<br>B}} all show the items A and B: 'A, B'."""
    return ", ".join(item for param in template.params if not param.showkey for item in _render_items(param.value, title))


def _wrapped(before: str, after: str) -> Callable[[Template, str], str]:
    return lambda template, title: f"{before}{_first(template, title)}{after}"


def _nuclide(template: Template, title: str) -> str:
    args = _args(template, title)
    return f"{args[0]}-{args[1]}" if len(args) >= 2 else _first(template, title)


def _music(template: Template, title: str) -> str:
    symbol = _first(template, title).lower()
    return {"flat": "♭", "b": "♭", "sharp": "♯", "#": "♯", "natural": "♮"}.get(symbol, symbol)


def _gauge(template: Template, title: str) -> str:
    """{{RailGauge|1435mm}} → '1435 mm'; a named gauge ('ussg') is shown as written."""
    return re.sub(r"(\d)(mm|m|ft|in)\b", r"\1 \2", _first(template, title))


def _height(template: Template, title: str) -> str:
    """{{height|m=1.8}} → '1.8 m'; {{height|ft=5|in=11}} → '5 ft 11 in'."""
    return " ".join(f"{_render_str(param.value, title)} {param.name.strip()}" for param in template.params if param.showkey)


def _fraction(template: Template, title: str) -> str:
    args = _args(template, title)
    if len(args) == 1:
        return f"1/{args[0]}"
    if len(args) == 2:
        return f"{args[0]}/{args[1]}"
    return f"{args[0]} {args[1]}/{args[2]}" if args else ""


def _as_of(template: Template, title: str) -> str:
    date = _format_date(_args(template, title), day_first=True)
    return f"as of {date}" if _named(template, "lc", title) else f"As of {date}"


def _value(template: Template, title: str) -> str:
    number = _first(template, title)
    exponent = _named(template, "e", title)
    unit = _named(template, "u", title) or _named(template, "ul", title)
    return number + (f"×10^{exponent}" if exponent else "") + (f" {unit}" if unit else "")


def _quote(template: Template, title: str) -> str:
    return _named(template, "text", title) or _named(template, "quote", title) or _first(template, title)


def _constant(text: str) -> Callable[[Template, str], str]:
    return lambda template, title: text


def _prefixed(prefix: str) -> Callable[[Template, str], str]:
    return lambda template, title: prefix + _first(template, title)


_INLINE_TEMPLATES: dict[str, Callable[[Template, str], str]] = {
    **dict.fromkeys(["convert", "cvt"], _convert),
    **dict.fromkeys(["birth date", "birth date and age", "death date", "death date and age", "start date",
                     "end date", "start date and age", "birth year and age", "death year and age", "dob"],
                    _date_template),
    **dict.fromkeys(["nowrap", "nobr", "small", "smaller", "big", "larger", "nobold", "noitalic", "abbr",
                     "vanchor", "tooltip", "not a typo", "as written", "em", "strong", "ill",
                     "interlanguage link", "interlanguage link multi", "sup", "sub", "mvar", "math", "var",
                     "flag", "flagcountry", "nihongo", "abbrlink", "sic", "small caps", "smallcaps", "lang-x"],
                    _first),
    **dict.fromkeys(["lang", "langx", "transl", "transliteration", "wikt-lang", "resize"], _last),
    **dict.fromkeys(["quote", "cquote", "quotation", "blockquote"], _quote),
    **dict.fromkeys(["frac", "sfrac"], _fraction),
    "as of": _as_of,
    "val": _value,
    "chem": lambda template, title: "".join(_args(template, title)),
    "sortname": lambda template, title: " ".join(_args(template, title)[:2]),
    "e": lambda template, title: f"×10^{_first(template, title)}",
    "circa": _prefixed("c. "),
    "c.": _prefixed("c. "),
    "us$": _prefixed("US$"),
    "£": _prefixed("£"),
    "€": _prefixed("€"),
    "¥": _prefixed("¥"),
    "coord": _coordinate,
    **dict.fromkeys(["angbr", "angle bracket", "angle brackets"], _wrapped("⟨", "⟩")),
    **dict.fromkeys(["bracket", "brackets"], _wrapped("[", "]")),
    **dict.fromkeys(["flagu", "flag country", "flagg", "flag icon link"], _first),
    **dict.fromkeys(["flagathlete", "flagsport"], _flag_athlete),
    **dict.fromkeys(["hlist", "flatlist", "ubl", "unbulleted list", "plainlist"], _list_items),
    **dict.fromkeys(["keypress", "key press"], _joined("+")),
    **dict.fromkeys(["nuclide2", "simplenuclide2", "nuclide", "simplenuclide"], _nuclide),
    **dict.fromkeys(["railgauge", "rail gauge", "track gauge"], _gauge),
    **dict.fromkeys(["nts", "ntsh", "nowrap begin", "overline", "underline", "strikethrough", "gaps",
                     "no wrap", "nobreak", "lang-rtl", "script", "ipa", "center"], _first),
    **dict.fromkeys(["sort", "sortname-lf"], _last),
    "music": _music,
    "height": _height,
    "vol.": _prefixed("vol. "),
    "p.": _prefixed("p. "),
    "pp.": _prefixed("pp. "),
    **{name: _constant(text) for name, text in {
        "eqm": " ⇌ ", "!": "|", "pipe": "|", "zwsp": "", "shy": "", "-": "", "bull": " • ", "•": " • ", "times": "×",
        "degree": "°", "minus": "−", "plusminus": "±", "=)": "", "en dash": "–", "em dash": "—",
        "ndash": "–", "mdash": "—", "mdashb": "—", "snd": " – ", "spnd": " – ", "spaced ndash": " – ",
        "spaced en dash": " – ", "dot": " · ", "middot": "·", "·": " · ", "'": "'", "'s": "'s",
        "nbsp": " ", "thinsp": " ", "pi": "π", "okina": "ʻ", "=": "=",
    }.items()},
}  # fmt: skip


_PAGE_NAME_TEMPLATES = frozenset({"pagename", "fullpagename", "pagenamebase"})


def _render_template(template: Template, title: str) -> str:
    name = _template_key(str(template.name))
    render = _INLINE_TEMPLATES.get(name)
    if render is not None:
        return render(template, title)
    if name.startswith("lang-"):  # {{lang-de|Tarnwik}}: the foreign-language text
        return _first(template, title)
    if name in _PAGE_NAME_TEMPLATES:
        return title
    function, colon, _ = name.partition(":")
    if colon and function in _TEXT_PARSER_FUNCTIONS:
        text = str(template.name).partition(":")[2].strip()
        if function == "formatnum" and text.isdecimal():
            return f"{int(text):,}"
        return text.upper() if function == "uc" else text.lower() if function == "lc" else text
    return ""


# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Per-page time limit


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


class WikitextExtractor(PipelineStep):
    """datatrove step: replace each page's wikitext with its clean prose (`clean_wikitext`).

    A page is skipped, counted and logged with its page id when it is larger than
    `max_page_bytes` (`skipped_too_large`), when mwparserfromhell raises on it
    (`skipped_parse_error`), when cleaning runs past `timeout_s` (`skipped_timeout`), or when no
    prose is left (`skipped_empty`); every other page goes on (`pages_cleaned`) with its visible
    article links as alias rows in its metadata (`anchors_seen` counts them). Alias-only documents
    (redirects) pass through untouched.
    """

    name = "🧹 Wikitext"
    type = "🛢 - EXTRAC"
    counters: tuple[str, ...] = ("anchors_seen",)
    """Counters reported even when zero, so every stats.json has the same keys."""

    def __init__(self, timeout_s: float = 20.0, max_page_bytes: int = 4_000_000) -> None:
        super().__init__()
        self.timeout_s = timeout_s
        self.max_page_bytes = max_page_bytes

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from datatrove.utils.logging import logger

        for document in data:
            if document.metadata.get(ALIAS_ONLY_KEY):
                yield document
                continue
            self.stat_update("pages_in")
            page = f"page {document.metadata.get('page_id', document.id)} ({document.metadata.get('title', '')!r})"
            # A character is at most 4 UTF-8 bytes: most pages need no encoding to pass the check.
            if len(document.text) * 4 > self.max_page_bytes and (
                size := len(document.text.encode("utf-8", "surrogatepass"))
            ) > self.max_page_bytes:
                self.stat_update("skipped_too_large")
                logger.warning(f"skipped {page}: {size:,} bytes of wikitext, over max_page_bytes={self.max_page_bytes:,}")
                continue
            try:
                with self.track_time(), time_limit(self.timeout_s):
                    page_text = clean_page(document.text, document.metadata.get("title", ""))
            except PageTimeout as timeout:
                self.stat_update("skipped_timeout")
                logger.warning(f"skipped {page}: cleaning {timeout} (timeout_s={self.timeout_s:g})")
                continue
            except Exception as error:  # mwparserfromhell's own errors, RecursionError on deep nesting
                self.stat_update("skipped_parse_error")
                logger.warning(f"skipped {page}: cannot parse its wikitext ({type(error).__name__}: {str(error)[:200]})")
                continue
            if not page_text.text:
                self.stat_update("skipped_empty")
                logger.info(f"skipped {page}: no prose left after cleaning")
                continue
            document.text = page_text.text
            document.metadata[SECTION_STARTS_KEY] = page_text.section_starts
            document.metadata[ALIASES_KEY] = [(target, anchor, ANCHOR) for target, anchor in page_text.links]
            if page_text.links:
                self.stat_update("anchors_seen", value=len(page_text.links))
            self.stat_update("pages_cleaned")
            self.update_doc_stats(document)
            yield document
