"""`WikitextExtractor`: the datatrove step that cleans each page's wikitext (`clean_page`)."""

from __future__ import annotations

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from memtrain_data.pipeline.aliases import ALIAS_ONLY_KEY, ALIASES_KEY, ANCHOR
from memtrain_data.pipeline.extractors.wikitext.page import SECTION_STARTS_KEY, clean_page
from memtrain_data.pipeline.time_limit import PageTimeout, time_limit


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
