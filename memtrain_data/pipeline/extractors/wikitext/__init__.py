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
  `{{as of}}`, `{{birth date}}`, `{{nowrap}}`, `{{frac}}`, `{{chem}}` …): `templates._INLINE_TEMPLATES`
  is the table, one renderer per template name, and extending it is adding a line;
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

The package, by job: `markup` (the regular expressions and markers, and the passes run before
parsing), `render` (mwparserfromhell nodes → text), `templates` (the inline templates and their
renderers), `paragraphs` (paragraph assembly), `page` (`clean_page`) and `extractor` (the step).
The per-page time limit is `memtrain_data.pipeline.time_limit`'s.
"""

from __future__ import annotations

from memtrain_data.pipeline.extractors.wikitext.extractor import WikitextExtractor
from memtrain_data.pipeline.extractors.wikitext.markup import BACK_MATTER_SECTIONS
from memtrain_data.pipeline.extractors.wikitext.page import (
    SECTION_STARTS_KEY,
    CleanPage,
    clean_page,
    clean_wikitext,
)
from memtrain_data.pipeline.time_limit import PageTimeout, time_limit

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
