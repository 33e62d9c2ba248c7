"""Rendering mwparserfromhell nodes to text: links (marked when they name an article), tags, headings.

Templates are rendered by `templates._render_template`, which in turn renders its arguments
with `_render_str` here.
"""

from __future__ import annotations

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

from memtrain_data.pipeline.extractors.wikitext.markup import (
    _BLOCK_TAGS,
    _DROPPED_TAGS,
    _HIDDEN_LINK_NAMESPACES,
    _ITEM_BOUNDARY,
    _LANGUAGE_CODE,
    _LINE_BREAK,
    _LINK_END,
    _LINK_TRAIL,
    _LIST_ITEM,
    _PIPE_TRICK_SUFFIX,
    _POEM_LINE_END,
    _SECTION_MARK,
    _SPECIAL_LANGUAGE_CODES,
    _mark_link,
)
from memtrain_data.pipeline.extractors.wikitext.templates import _render_template, use_renderer


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


use_renderer(_render_str, _render_items)
