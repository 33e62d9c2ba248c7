"""Alias rows: which strings name which article, from redirects and link anchors.

Every step of the pool pipeline may carry alias occurrences to the pool writer in a document's
metadata (`ALIASES_KEY`: a list of `(target, alias, kind)` triples). Documents that carry only
aliases and no text (a batch of redirects, the links of a page that gave no passage) are marked
with `ALIAS_ONLY_KEY`; every step passes them on untouched and the writer writes no passage for
them. `LATEST_TIMESTAMP_KEY` carries the newest revision timestamp a reader saw in its unit
(pages it dropped included).

A target is a namespace-0 title in normal form (`normalize_target`); link targets in another
namespace (File:, Category:, Wikipedia: …) or on another wiki (`wikt:`, `de:`) are not articles
and give no alias (`article_target` returns None for them).
"""

from __future__ import annotations

import html
import re

ALIASES_KEY = "aliases"
ALIAS_ONLY_KEY = "alias_only"
LATEST_TIMESTAMP_KEY = "latest_timestamp"
ANCHOR = "anchor"
REDIRECT = "redirect"

# Namespace names and aliases of English Wikipedia, and interwiki prefixes to sister projects.
_NON_ARTICLE_PREFIXES: frozenset[str] = frozenset({
    "media", "special", "talk", "user", "user talk", "wikipedia", "wikipedia talk", "wp", "wt", "project",
    "project talk", "file", "file talk", "image", "image talk", "mediawiki", "mediawiki talk", "template",
    "template talk", "help", "help talk", "category", "category talk", "portal", "portal talk", "draft",
    "draft talk", "module", "module talk", "book", "book talk", "education program", "timedtext",
    "timedtext talk", "gadget", "gadget definition", "topic", "tm", "cat", "h", "p", "mos",
    "w", "wikt", "wiktionary", "s", "wikisource", "q", "wikiquote", "b", "wikibooks", "n", "wikinews",
    "v", "wikiversity", "voy", "wikivoyage", "commons", "c", "meta", "m", "metawikipedia", "species",
    "wikispecies", "d", "wikidata", "mw", "mediawikiwiki", "foundation", "wmf", "phab", "phabricator",
    "incubator", "outreach", "outreachwiki", "betawikiversity", "wikitech", "doi", "google", "imdb",
    "iarchive", "oclc", "isbn", "rfc", "arxiv", "bugzilla", "gerrit", "mailarchive", "ethnologue",
})  # fmt: skip
_LANGUAGE_PREFIX = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*")
_SPECIAL_LANGUAGE_PREFIXES: frozenset[str] = frozenset(
    {"simple", "classical", "tokipona", "zh-yue", "be-x-old"}
)


def normalize_target(raw: str) -> str:
    """A link or redirect target as a title: entities decoded, `#fragment` dropped, `_` → space,
    whitespace collapsed, first character upper-cased. "" for a link to a section of the same page.

    >>> normalize_target("ayn_rand#Early life")
    'Ayn Rand'
    """
    title = html.unescape(raw) if "&" in raw else raw
    if "#" in title:
        title = title.partition("#")[0]
    title = " ".join(title.replace("_", " ").split())
    return title[:1].upper() + title[1:]


def article_target(raw: str) -> str | None:
    """The normalized title when `raw` (a link target as written) names a namespace-0 article here, else None."""
    raw = raw.strip()
    if ":" not in raw:  # most links: no namespace to check
        return normalize_target(raw) or None
    explicit_main = raw.startswith(":")  # [[:Foo]] is the article Foo; [[:Category:X]] is still a category
    if explicit_main:
        raw = raw[1:].lstrip()
    prefix, colon, _ = raw.partition(":")
    if colon:
        key = " ".join(prefix.replace("_", " ").split()).lower()
        if key in _NON_ARTICLE_PREFIXES or key in _SPECIAL_LANGUAGE_PREFIXES:
            return None
        # [[de:Tarnvik]], [[fr:…]]: an interlanguage link (the prefix is written lowercase)
        if prefix.strip() == key and _LANGUAGE_PREFIX.fullmatch(key):
            return None
    title = normalize_target(raw)
    return title or None


def clean_alias(text: str) -> str:
    """Visible anchor text as one line: whitespace collapsed."""
    return " ".join(text.split())
