"""`memtrain eval --task ruler-hqa` end to end against a real local OpenAI-compatible server.

The server answers the final turn of each question in a crafted form (boxed, \\fbox, "the answer
is …", a substring of the gold, a superstring, empty, a box inside <think>), so every metric's
value is known in advance; the reported numbers are then recomputed from predictions.jsonl with
an independent implementation of the HotpotQA / MemAgent definitions written here.
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memtrain_cli.app import app
from tests.agent.backends.fake_openai import serve

runner = CliRunner()

# index -> the final answer the server writes, for the first nine questions of eval_50.json.
FINAL_REPLIES = {
    "0": "\\boxed{yes}",  # gold "yes"
    "1": "\\fbox{Chief of Protocol}",  # MemAgent also reads \fbox
    "2": "Therefore, the answer is Animorphs.",  # no box: no prediction
    "3": "\\boxed{yes}",  # gold "no": HotpotQA gives no F1 for a yes/no mismatch
    "4": "\\boxed{Greenwich Village}",  # a substring of "Greenwich Village, New York City"
    "5": "\\boxed{YG Entertainment, a South Korean label}",  # a superstring of "YG Entertainment"
    "6": "",  # empty reply
    "7": "<think>maybe \\boxed{5,000}</think> It seats $\\boxed 3,677 seated$.",  # after </think>, \boxed x
    "8": "\\boxed{Annie Morton}, no: \\boxed{Terry Richardson}",  # the last box
}
F1_PARTIAL = 2 * 1.0 * 0.4 / 1.4  # 2 of 5 tokens on one side, all on the other
# (em, f1, sub_em, accuracy) of each crafted answer, worked out by hand.
EXPECTED = {
    "0": (1, 1, 1, 1),
    "1": (1, 1, 1, 1),
    "2": (0, 0, 0, 0),
    "3": (0, 0, 0, 0),
    "4": (0, F1_PARTIAL, 0, 1),
    "5": (0, F1_PARTIAL, 1, 1),
    "6": (0, 0, 0, 0),
    "7": (1, 1, 1, 1),
    "8": (1, 1, 1, 1),
}


# An independent implementation of the definitions (HotpotQA's official evaluation script and
# MemAgent's accuracy), on purpose not importing memtrain's metrics.
def _norm(text: str) -> str:
    text = "".join(c for c in text.lower() if c not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def _f1(pred: str, gold: str) -> float:
    p, g = _norm(pred), _norm(gold)
    if p != g and (p in ("yes", "no", "noanswer") or g in ("yes", "no", "noanswer")):
        return 0.0
    same = sum((Counter(p.split()) & Counter(g.split())).values())
    if not same:
        return 0.0
    precision, recall = same / len(p.split()), same / len(g.split())
    return 2 * precision * recall / (precision + recall)


def independent_scores(pred: str | None, golds: list[str]) -> tuple[float, float, float, float]:
    if not pred:
        return (0.0, 0.0, 0.0, 0.0)
    em = max(float(_norm(pred) == _norm(g)) for g in golds)
    f1 = max(_f1(pred, g) for g in golds)
    sub_em = max(float(bool(_norm(g)) and _norm(g) in _norm(pred)) for g in golds)
    accuracy = max(
        float(bool(_norm(pred)) and (_norm(g) in _norm(pred) or _norm(pred) in _norm(g))) for g in golds
    )
    return (em, f1, sub_em, accuracy)


@pytest.fixture
def ruler_subset(tmp_path: Path) -> Path:
    """The first nine records of the shared eval_50.json and eval_100.json, in the released layout."""
    from tests.conftest import SHARED_DIR

    source = SHARED_DIR / "data/hotpotqa/ruler_hqa"
    if not (source / "eval_50.json").is_file():
        pytest.skip(f"{source} is absent: this test reads the shared RULER-HotpotQA stand-in files")
    folder = tmp_path / "ruler_hqa"
    folder.mkdir()
    for name in ("eval_50.json", "eval_100.json"):
        records = json.loads((source / name).read_text())[:9]
        (folder / name).write_text(json.dumps(records))
    return folder


def crafted_replies(data: Path):
    """The server's answer function: a memory for update turns, the crafted form for final turns."""
    index_of = {r["input"].strip(): str(r["index"]) for r in json.loads(data.read_text())}

    def reply(body: dict) -> str:
        prompt = body["messages"][-1]["content"]
        if "Your answer:" not in prompt:  # an update turn: the reply becomes the memory
            return "Notes: nothing decisive yet."
        question = prompt.split("<problem> \n", 1)[1].split("\n</problem>", 1)[0]
        return FINAL_REPLIES[index_of[question]]

    return reply


def run_eval(url: str, data: Path, out: Path, tokenizer: Path, *extra: str):
    return runner.invoke(app, ["eval", "--task", "ruler-hqa", "--backend", "openai", "--base-url", url,
                               "--model", "served", "--tokenizer", str(tokenizer), "--data", str(data),
                               "--output", str(out), *extra])  # fmt: skip


def test_crafted_answers_pin_every_metric_and_predictions_recompute_them(
    ruler_subset: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    with serve() as (state, url):
        state.reply = crafted_replies(ruler_subset / "eval_50.json")
        result = run_eval(url, ruler_subset, out, tiny_model_dir)
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.output and "MemAgent" in result.output
    results = json.loads((out / "results.json").read_text())
    assert list(results["metrics"]) == ["50", "100"]
    # The memagent protocol went over the wire: its sampling settings and its prompts.
    assert {(r["temperature"], r["top_p"], r["max_tokens"]) for r in state.requests} == {(0.7, 0.95, 1024)}
    assert results["protocol"] == "memagent" and results["settings"]["chunk_tokens"] == 5000

    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(predictions) == 18
    for length in ("50", "100"):
        rows = [p for p in predictions if p["length"] == length]
        # Pinned: the crafted forms give the hand-worked values.
        for name, column in zip(
            ("em", "f1", "sub_em", "accuracy"), zip(*EXPECTED.values(), strict=True), strict=True
        ):
            assert results["metrics"][length][name] == pytest.approx(sum(column) / 9), (length, name)
        # Recomputed: an independent implementation over predictions.jsonl finds the reported values.
        recomputed = [independent_scores(p["prediction"], p["answers"]) for p in rows]
        for position, name in enumerate(("em", "f1", "sub_em", "accuracy")):
            mean = sum(scores[position] for scores in recomputed) / len(rows)
            assert results["metrics"][length][name] == pytest.approx(mean), (length, name)
        entry = results["metrics"][length]
        assert entry["n"] == 9 and entry["complete"] and entry["num_docs"] == int(length)
        assert entry["mean_tokens"] == pytest.approx(sum(p["n_tokens"] for p in rows) / 9)
    assert results["metrics"]["100"]["mean_tokens"] > 1.5 * results["metrics"]["50"]["mean_tokens"]
    assert (out / "plot.png").is_file()


def test_editing_one_gold_answer_reruns_exactly_that_example(
    ruler_subset: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    data = ruler_subset / "eval_50.json"
    out = tmp_path / "run"
    with serve() as (state, url):
        state.reply = lambda body: (
            "\\boxed{Chief of Protocol}" if "Your answer:" in body["messages"][-1]["content"] else "m"
        )
        first = run_eval(url, data, out, tiny_model_dir, "--limit", "3")
        assert first.exit_code == 0, first.output
        records = json.loads(data.read_text())
        records[1]["answers"] = ["Ambassador to Ghana"]  # the gold of index 1 changes
        data.write_text(json.dumps(records))
        again = run_eval(url, data, out, tiny_model_dir, "--limit", "3")
    assert again.exit_code == 0, again.output
    assert "1 example(s) run, 2 reused" in again.output
    results = json.loads((out / "results.json").read_text())
    assert results["counts"]["stale_predictions_rerun"] == 1
    lines = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert sorted(line["id"] for line in lines) == ["0", "1", "2"]  # the stale line is gone
    assert next(line for line in lines if line["id"] == "1")["answers"] == ["Ambassador to Ghana"]
    assert results["metrics"]["50"]["accuracy"] == pytest.approx(0.0)  # the new gold, not the old


def test_a_limit_run_merges_into_the_full_results(
    ruler_subset: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    data = ruler_subset / "eval_50.json"
    out = tmp_path / "run"
    with serve() as (state, url):
        state.reply = lambda body: "\\boxed{yes}"
        assert run_eval(url, data, out, tiny_model_dir).exit_code == 0
        requests = len(state.requests)
        again = run_eval(url, data, out, tiny_model_dir, "--limit", "2")
        assert len(state.requests) == requests  # nothing re-run
    assert "0 example(s) run, 2 reused" in again.output
    entry = json.loads((out / "results.json").read_text())["metrics"]["50"]
    assert entry["n"] == 9 and entry["n_total"] == 9 and entry["complete"]


def test_lengths_run_separately_are_kept_together(
    ruler_subset: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    with serve() as (state, url):
        state.reply = lambda body: "\\boxed{yes}"
        assert (
            run_eval(url, ruler_subset, out, tiny_model_dir, "--lengths", "50", "--limit", "1").exit_code == 0
        )
        result = run_eval(url, ruler_subset, out, tiny_model_dir, "--lengths", "100", "--limit", "1")
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "results.json").read_text())["metrics"]
    assert list(metrics) == ["50", "100"] and metrics["50"]["from_previous_run"]
    assert metrics["50"]["n"] == metrics["100"]["n"] == 1


def test_a_changed_model_is_never_served_stale_answers(
    ruler_subset: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    import shutil

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    out = tmp_path / "run"
    args = ["eval", "--task", "ruler-hqa", "--data", str(ruler_subset / "eval_50.json"), "--model", str(model),
            "--ids", "0", "--response-tokens", "2", "--memory-tokens", "4", "--chunk-tokens", "8000",
            "--output", str(out)]  # fmt: skip
    assert runner.invoke(app, args).exit_code == 0
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**config, "rms_norm_eps": 1e-5}))
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "other settings, protocol or model (weights changed?)" in result.output


def test_an_unreachable_endpoint_is_one_line_and_leaves_no_folder(
    ruler_subset: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "never"
    result = run_eval("http://127.0.0.1:9/v1", ruler_subset / "eval_50.json", out, tiny_model_dir,
                      "--limit", "1", "--request-retries", "1")  # fmt: skip
    assert result.exit_code == 2
    assert "still failing after 2 attempts" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_bad_data_fails_before_the_model_loads_and_leaves_no_folder(tmp_path: Path) -> None:
    # The model does not exist either: the data error comes first because data is read before loading.
    out = tmp_path / "out"
    bad = tmp_path / "eval_50.json"
    bad.write_text('{"not": "a list"}')
    result = runner.invoke(app, ["eval", "--task", "ruler-hqa", "--data", str(bad), "--model", "org/never-loaded",
                                 "--output", str(out)])  # fmt: skip
    assert result.exit_code == 2 and "expected a list of records" in result.output
    assert not out.exists()
