"""examples/learning_check.py: one command trains a policy next to an lr = 0 control and reports both.

The recorded check uses SmolLM2-135M-Instruct for many minutes; here the same script runs end to
end with the tiny test model, so a flag the trainer refuses (as `--memory-tokens` above
`--response-tokens` once was) or a broken report fails the suite.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from memtrain_data.agent.templates import PromptTemplates
from memtrain_data.eval.metrics import normalize_answer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("learning_check", EXAMPLES / "learning_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_check_templates_prefill_the_box_and_show_no_answer() -> None:
    templates = PromptTemplates.from_file(EXAMPLES / "learning-check-templates.yaml")
    assert templates.answer_prefix == "\\boxed{"
    for name in ("final", "recall"):
        text = getattr(templates, name)
        # No example answer a small model could copy: any box shown is empty.
        assert "\\boxed{{}}" in text and normalize_answer(text.split("\\boxed{{")[1].split("}}")[0]) == ""


def test_the_report_tests_the_heldout_gap_with_a_pooled_two_proportion_z() -> None:
    script = load_script()
    # By hand: pooled rate 32/256 = 0.125; standard error sqrt(0.125 * 0.875 * (2/128)) = 0.041340;
    # difference 21/128 - 11/128 = 0.078125; z = 1.8898.
    assert script.two_proportion_z(21, 128, 11, 128) == pytest.approx(1.8898, abs=1e-4)
    assert script.two_proportion_z(11, 128, 21, 128) == pytest.approx(-1.8898, abs=1e-4)
    # No variance (both all wrong, or both all right): no evidence either way.
    assert script.two_proportion_z(0, 10, 0, 10) == 0.0
    assert script.two_proportion_z(10, 10, 10, 10) == 0.0


@pytest.mark.slow
def test_one_command_runs_both_and_writes_the_table_and_plot(tiny_model_dir: Path, tmp_path: Path) -> None:
    script = load_script()
    output = tmp_path / "check"
    script.main(
        ["--output", str(output), "--model", str(tiny_model_dir), "--steps", "1", "--episodes", "4",
         "--episodes-per-step", "1", "--g1", "2", "--g2", "2", "--resample-tries", "0", "--micro-steps", "2", "--eval-episodes", "2", "--eval-samples", "2"]
    )  # fmt: skip
    logged = {}
    for run in ("trained", "control"):
        # The random tiny model earns no reward, so its batches are skipped steps, each logged.
        logged[run] = [json.loads(line) for line in (output / run / "metrics.jsonl").read_text().splitlines()]
        assert logged[run] and all(
            {"e2e_em", "imr_em", "groups_kept", "skipped_step"} <= set(s) for s in logged[run]
        )
    table = (output / "table.md").read_text().splitlines()
    assert table[0].startswith("| step | e2e EM (lr) | e2e EM (lr 0)")
    step_rows = [line for line in table if line.startswith("| ") and line.split("|")[1].strip().isdigit()]
    assert len(step_rows) == min(len(logged["trained"]), len(logged["control"]))
    assert (output / "learning_check.png").stat().st_size > 0
    # Both saved models are scored on held-out toy episodes: 2 episodes x G1 2 finals, x G2 2 recalls.
    heldout = json.loads((output / "heldout.json").read_text())
    for name in ("trained", "control"):
        assert heldout[name]["final_answers"] == 4 and heldout[name]["recall_answers"] == 8
        assert 0 <= heldout[name]["e2e_em"] <= 1 and 0 <= heldout[name]["memory_holds_town"] <= 1
    report = "\n".join(table)
    assert "| lr = 0 control |" in report and "two-proportion z" in report
    assert any(line.startswith("| mean |") for line in table)
