"""Extractors: raw page markup in, clean plain text out (one datatrove step per markup kind)."""

from memtrain_data.pipeline.extractors.wikitext import WikitextExtractor, clean_wikitext

__all__ = ["WikitextExtractor", "clean_wikitext"]
