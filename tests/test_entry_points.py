"""Every way of running a stage writes one results shape: `coldstart-train` (what `make paper` launches per rank) writes
the same `curves` the run notebooks write and the paper stage reads, and on a fresh checkout builds the embedded
default it needs instead of stopping at a missing file."""
import json
import shutil

import pytest

from conftest import ROOT


@pytest.fixture
def fresh_root(tmp_path, monkeypatch):
    "A project root as a fresh checkout has it: configs and notebooks, no data, models, checkpoints or results."
    shutil.copytree(ROOT / "reports" / "configs", tmp_path / "reports" / "configs")
    (tmp_path / "nbs").symlink_to(ROOT / "nbs")
    (tmp_path / "settings.ini").write_text((ROOT / "settings.ini").read_text())
    monkeypatch.setenv("COLDSTART_NB_ROOT", str(tmp_path))
    return tmp_path


def test_coldstart_train_on_a_fresh_checkout_writes_curves_the_report_reads(fresh_root):
    "Issue 21 defects 2 and 8: `coldstart-train` wrote `log_history` (99_paper died on `curves`) and stopped at a missing train.jsonl."
    from coldstart_nb.cli import train_main
    from coldstart_nb.report import curves_table, load_results
    from coldstart_nb.stages import GRPO_CURVES
    assert not (fresh_root / "data").exists() and not (fresh_root / "models").exists()
    train_main(["grpo", "--preset", "tiny", "max_steps=2", "save_steps=2"])
    assert (fresh_root / "models" / "tiny-init" / "config.json").exists() and (fresh_root / "data" / "synth" / "tiny" / "train.jsonl").exists()
    payload = json.loads((fresh_root / "reports" / "results" / "grpo_tiny.json").read_text())
    res = payload["results"]
    assert set(res) == {"summary", "curves", "preflight", "batch_plan"}
    assert res["summary"]["steps"] == 2 and res["summary"]["final"] == "checkpoints/grpo-tiny/final"
    assert {r["metric"] for r in res["curves"]} <= set(GRPO_CURVES) and "reward" in {r["metric"] for r in res["curves"]}
    assert payload["meta"]["config"]["max_steps"] == 2 and payload["meta"]["config"]["preset"] == "tiny"
    cv = curves_table({"tiny": load_results(fresh_root / "reports" / "results")[("grpo", "tiny")]})
    assert len(cv) == len(res["curves"]) and set(cv.columns) == {"run", "step", "metric", "value"}
