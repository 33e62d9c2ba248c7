"""Input that leaves the pool empty or small: say what the pages became, and never plan more
episodes than the pool has pivots for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.hostile.helpers import assert_one_line_error, run_cli
from tests.pipeline.readers.dump_factory import article_pages, dump_text, page_xml, write_dump


def test_an_all_redirect_dump_says_every_page_was_a_redirect_and_does_not_suggest_the_preset_in_use(tmp_path: Path) -> None:
    pages = [page_xml(i, f"Redirect {i}", f"#REDIRECT [[Target {i}]]", redirect=f"Target {i}") for i in range(1, 41)]
    dump = write_dump(tmp_path / "redirects.xml.bz2", dump_text(pages))

    result = run_cli("build-dataset", "--dump", dump, "--output", tmp_path / "out", "--preset", "mini")

    line = assert_one_line_error(result, "the passage pool is empty", "all 40 pages were redirects")
    assert "--preset mini" not in line


def test_a_pool_too_small_for_one_paper_episode_suggests_the_mini_preset(tmp_path: Path) -> None:
    dump = write_dump(tmp_path / "small.xml", dump_text(article_pages(3)))

    result = run_cli("build-dataset", "--dump", dump, "--output", tmp_path / "out", "--preset", "paper")

    assert_one_line_error(result, "the passage pool is too small: 3 passage(s)", "needs 150", "--preset mini")


def test_describing_a_pool_names_each_kind_of_dropped_page() -> None:
    from memtrain_data.build import describe_pool_input

    stats = {
        "read": {"pages_read": 10, "articles": 3, "redirects_dropped": 5, "other_namespaces_dropped": 2, "xml_errors": 1},
        "extract": {"skipped_timeout": 3},
        "write": {"passages_written": 0},
    }
    text = describe_pool_input(stats)
    assert text.startswith("of 10 pages read, 0 were usable articles")
    assert "5 redirects" in text and "2 outside the article namespace" in text and "3 skipped (timeout)" in text
    assert "1 XML error(s) ended reading early" in text


@pytest.mark.slow
def test_num_episodes_far_beyond_the_pool_is_capped_by_the_candidate_pivots(tmp_path: Path) -> None:
    from memtrain_data.episodes.build import num_tasks

    output = tmp_path / "out"
    # --pool-size keeps the pool (and so the capped build) small: the cap is what is tested. Every
    # page goes to train, so 30 passages still fill documents from their own split.
    settings = tmp_path / "all-train.yaml"
    settings.write_text("validation_fraction: 0.0\ntest_fraction: 0.0\n")
    result = run_cli(
        "build-dataset", "--output", output, "--num-episodes", str(10**20), "--pool-size", "30", "--config", settings
    )

    assert result.exit_code == 0, result.output
    stats = json.loads((output / "stats.json").read_text())["configs"]["mini"]
    possible = sum(stats["candidate_pivots"].values())
    assert f"--num-episodes {10**20:,} capped to {possible:,}" in result.output.replace("\n", " ")
    assert sum(stats["episodes_requested"].values()) == possible
    assert stats["tasks"] == num_tasks(possible)
    shards = list((output / "mini").glob("*.parquet"))
    assert len(shards) <= 3 * stats["tasks"]
