"""What `_prepare` does to wikitext before mwparserfromhell parses it, and the markers it leaves.

The regular expressions and tables of markup (back-matter section titles, dropped tags, link,
formula, line-break and list markers), the link and formula markers and the context that
collects their targets and TeX, and the regex passes that drop comments, back matter, tables
and bold/italic markup and resolve plain links.
"""

from __future__ import annotations

import functools
import re
from contextvars import ContextVar

from memtrain_data.pipeline.aliases import article_target

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
