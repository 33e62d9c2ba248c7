"""Storage types agree with the record models, and the pool's schema matches its declared features."""

from __future__ import annotations

from memtrain_data.features import episode_features, passage_arrow_schema, passage_features
from memtrain_data.records import MaskedReconstructionEpisode, Passage, RecallProbe


def test_every_model_field_has_a_column() -> None:
    assert list(passage_features()) == list(Passage.model_fields)
    assert list(episode_features()) == list(MaskedReconstructionEpisode.model_fields)
    probe = episode_features()["recall_probes"].feature
    assert list(probe) == list(RecallProbe.model_fields)


def test_pool_schema_built_without_datasets_equals_the_features_schema() -> None:
    expected = passage_features().arrow_schema
    actual = passage_arrow_schema()
    assert actual.equals(expected, check_metadata=True)
