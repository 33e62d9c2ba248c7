"""Data files shipped inside the package (declared as package data in pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

from memtrain_data.errors import InputError

__all__ = ["sample_wiki_path"]

_RESOURCES_DIR = Path(__file__).resolve().parent


def sample_wiki_path() -> Path:
    """The bundled sample wiki: a MediaWiki XML export written for memtrain.

    39 invented articles about the towns, rivers, people, companies and events of a fictional
    province (Brenmark, in the Republic of Calvera), in real wikitext markup (infoboxes, citation
    templates in refs, tables, files, categories, interlanguage links), plus 5 redirects, one
    disambiguation page and one template page. `memtrain build-dataset` reads it when no
    `--dump` is given.
    """
    path = _RESOURCES_DIR / "sample_wiki" / "sample-wiki.xml"
    if not path.is_file():
        raise InputError(f"the bundled sample wiki is missing from the installed package ({path}); reinstall memtrain")
    return path
