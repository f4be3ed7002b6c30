"""Every way of running a stage writes one results shape: `coldstart-train` (what `make paper` launches per rank) writes
the same `curves` the run notebooks write and the paper stage reads, and on a fresh checkout builds the embedded
default it needs instead of stopping at a missing file."""
import json


def test_coldstart_train_on_a_fresh_checkout_writes_curves_the_report_reads(scratch_root):
    "Issue 21 defects 2 and 8: `coldstart-train` wrote `log_history` (99_paper died on `curves`) and stopped at a missing train.jsonl."
    from coldstart_nb.cli import train_main
    from coldstart_nb.report import curves_table, load_results
    from coldstart_nb.stages import GRPO_CURVES
    assert not (scratch_root / "data").exists() and not (scratch_root / "models").exists()
    train_main(["grpo", "--preset", "tiny", "max_steps=2", "save_steps=2"])
    assert (scratch_root / "models" / "tiny-init" / "config.json").exists() and (scratch_root / "data" / "synth" / "tiny" / "train.jsonl").exists()
    payload = json.loads((scratch_root / "reports" / "results" / "grpo_tiny.json").read_text())
    res = payload["results"]
    assert set(res) == {"summary", "curves", "preflight", "batch_plan", "engine", "perf", "validation"} and res["engine"] == "single"
    assert res["perf"]["perf/throughput"] > 0 and [v["step"] for v in res["validation"]] == [2]   # the tiny preset validates
    assert res["summary"]["steps"] == 2 and res["summary"]["final"] == "checkpoints/grpo-tiny/final"
    assert {r["metric"] for r in res["curves"]} <= set(GRPO_CURVES) and "reward" in {r["metric"] for r in res["curves"]}
    assert payload["meta"]["config"]["max_steps"] == 2 and payload["meta"]["config"]["preset"] == "tiny"
    cv = curves_table({"tiny": load_results(scratch_root / "reports" / "results")[("grpo", "tiny")]})
    assert len(cv) == len(res["curves"]) and set(cv.columns) == {"run", "step", "metric", "value"}


def test_a_missing_embedded_model_is_built_at_its_own_size(scratch_root):
    "`models/small-init` named by a recipe and missing is built with the 'small' shape, not the tiny one (a 'tiny' build under that name)."
    from coldstart_nb.embedded import ensure_for_training, init_preset
    from coldstart_nb.models import MODEL_PRESETS
    assert (init_preset("models/small-init"), init_preset("models/tiny-init/")) == ("small", "tiny")
    _, m = ensure_for_training("corpus:data/synth/tiny", "models/small-init", "corpus")
    cfg = json.loads((m / "config.json").read_text())
    hidden = cfg.get("text_config", cfg).get("hidden_size")
    assert hidden == MODEL_PRESETS["small"]["hidden"] != MODEL_PRESETS["tiny"]["hidden"], hidden
    import pytest
    with pytest.raises(ValueError, match="not an embedded model folder"):
        init_preset("models/my-own-model")
