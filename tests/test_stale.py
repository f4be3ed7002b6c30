"""Issue 15 items 1, 2, 3 and 7 (stores): nothing stale, nothing silent.

Stored generations carry a fingerprint of what produced them (backend identity, decoding, prompt) and a per-record
request digest; a re-run reuses only what matches and says how much. Finished training stages are skipped when their
config matches and refused when it does not. Preset typos stop `load_recipe`, `coldstart-train` and `coldstart-reproduce`
before any work. Cut-off trainer state, empty datasets, corrupt prediction lines and a second evaluation on one store are
clear errors."""
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import datasets
import pytest

from coldstart_nb.core import project_path
from coldstart_nb.stores import StoreError
from coldstart_nb.evaluate import evaluate
from coldstart_nb.generate import GenConfig, Request, generate
from coldstart_nb.synth import make_split

ROOT = Path(__file__).resolve().parents[1]


class Echo:
    "A fake backend standing for a model at `model`: answers every request with the model's name and a boxed 1."
    name = "echo"

    def __init__(self, model="a"):
        self.model, self._calls = model, 0

    def generate_batch(self, reqs, cfg, seed):
        self._calls += len(reqs)
        return [[{"text": f"{self.model} says \\boxed{{1}}", "finish": "stop", "n_tokens": 4}] * cfg.n for _ in reqs]


@pytest.fixture(scope="module")
def items():
    return make_split("test", 6, progress=False)


GEN = GenConfig(max_new_tokens=16, batch_size=4)


# ---- item 1: generation and evaluation stores ----

def test_eval_rerun_with_another_model_is_refused_and_meta_kept(items, tmp_path):
    store = tmp_path / "init-greedy.jsonl"
    evaluate(Echo("models/tiny-init"), items, "init", GEN, store=store, progress=False, n_boot=10)
    meta = json.loads(store.with_suffix(".meta.json").read_text())
    other = Echo("models/tiny-seed1")
    with pytest.raises(StoreError, match="model"):
        evaluate(other, items, "init", GEN, store=store, progress=False, n_boot=10)
    assert other._calls == 0
    assert json.loads(store.with_suffix(".meta.json").read_text()) == meta, "the sidecar must not claim the new settings"


def test_eval_rerun_with_other_decoding_is_refused(items, tmp_path):
    store = tmp_path / "p.jsonl"
    evaluate(Echo(), items, "m", GEN, store=store, progress=False, n_boot=10)
    with pytest.raises(StoreError, match="max_new_tokens"):
        evaluate(Echo(), items, "m", GenConfig(max_new_tokens=32, batch_size=4), store=store, progress=False, n_boot=10)


def test_matching_rerun_reuses_and_says_so(items, tmp_path):
    store = tmp_path / "p.jsonl"
    first = evaluate(Echo(), items, "m", GEN, store=store, progress=False, n_boot=10)
    assert first["reuse"] == {"reused": 0, "generated": len(items), "total": len(items)}
    be = Echo()
    again = evaluate(be, items, "m", GEN, store=store, progress=False, n_boot=10)
    assert be._calls == 0 and again["reuse"] == {"reused": len(items), "generated": 0, "total": len(items)}
    assert again["scores"] == first["scores"]
    meta = json.loads(store.with_suffix(".meta.json").read_text())
    assert meta["reuse"]["reused"] == len(items) and meta["fingerprint"]["backend"]["model"] == "a"


def test_fresh_moves_old_predictions_aside(items, tmp_path):
    store = tmp_path / "p.jsonl"
    evaluate(Echo("a"), items, "m", GEN, store=store, progress=False, n_boot=10)
    r = evaluate(Echo("b"), items, "m", GEN, store=store, progress=False, n_boot=10, on_mismatch="fresh")
    assert r["reuse"]["reused"] == 0 and all(x["response"].startswith("b says") for x in r["records"])
    assert len(list(tmp_path.glob("p.stale-*.jsonl"))) == 1


def test_changed_item_under_the_same_id_is_caught(tmp_path):
    from PIL import Image
    store = tmp_path / "g.jsonl"
    msg = lambda t: [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": t}]}]
    img = Image.new("RGB", (28, 28), "white")
    reqs = [Request("q1", msg("How many?"), [img]), Request("q2", msg("Which?"), [img])]
    generate(Echo(), reqs, GEN, store=store, progress=False)
    changed_text = [Request("q1", msg("How many now?"), [img]), reqs[1]]
    with pytest.raises(StoreError, match="q1"):
        generate(Echo(), changed_text, GEN, store=store, progress=False)
    changed_image = [reqs[0], Request("q2", msg("Which?"), [Image.new("RGB", (28, 28), "black")])]
    with pytest.raises(StoreError, match="q2"):
        generate(Echo(), changed_image, GEN, store=store, progress=False)
    out = generate(Echo(), reqs, GEN, store=store, progress=False)   # the unchanged requests are still reused
    assert [o["id"] for o in out] == ["q1", "q2"]


def test_model_fingerprint_follows_the_weights(tiny_model_dir, tmp_path):
    from coldstart_nb.generate import HFBackend, backend_identity, model_fingerprint
    from coldstart_nb.models import load_model, load_processor
    d = tmp_path / "m"
    shutil.copytree(tiny_model_dir, d)
    fp = model_fingerprint(d)
    assert fp["weights"] and fp == model_fingerprint(d)
    ident = backend_identity(HFBackend(load_model(d, device="cpu"), load_processor(d)))
    assert ident["name"] == "hf" and ident["model"]["weights"] == fp["weights"]
    w = next(p for p in d.iterdir() if p.suffix == ".safetensors")
    with open(w, "ab") as f:
        f.write(b"\0")
    assert model_fingerprint(d)["weights"] != fp["weights"]


def test_cot_teacher_settings_change_is_caught(tmp_path):
    from coldstart_nb.cot import CotConfig, SolverTeacher, build_cot
    probs = make_split("train", 4, progress=False)
    work = tmp_path / "work"
    build_cot(SolverTeacher(probs, error_rate=0.3), probs, CotConfig(variants="distilled", k=2), work, progress=False)
    with pytest.raises(StoreError, match="generation.n"):
        build_cot(SolverTeacher(probs, error_rate=0.3), probs, CotConfig(variants="distilled", k=3), work, progress=False)
    with pytest.raises(StoreError, match="error_rate"):
        build_cot(SolverTeacher(probs, error_rate=0.9), probs, CotConfig(variants="distilled", k=2), work, progress=False)
    report = {}
    build_cot(SolverTeacher(probs, error_rate=0.3), probs, CotConfig(variants="distilled", k=2), work, progress=False, report=report)
    assert report["solve"]["reused"] == len(probs) and report["solve"]["fingerprint"]["backend"]["error_rate"] == 0.3


# ---- item 7 (stores): corrupt lines and a second writer ----

def test_bad_prediction_line_names_file_and_line(items, tmp_path):
    store = tmp_path / "p.jsonl"
    evaluate(Echo(), items, "m", GEN, store=store, progress=False, n_boot=10)
    with open(store, "a") as f:
        f.write("{not json\n")
    with pytest.raises(StoreError, match=rf"p\.jsonl:{len(items) + 1}"):
        evaluate(Echo(), items, "m", GEN, store=store, progress=False, n_boot=10)


HOLD = """
import sys
from coldstart_nb.stores import RecordStore
st = RecordStore(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
"""


def test_second_evaluation_on_one_store_is_refused(items, tmp_path):
    store = tmp_path / "p.jsonl"
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(store)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        be = Echo()
        with pytest.raises(StoreError, match="being written by another run"):
            evaluate(be, items, "m", GEN, store=store, progress=False, n_boot=10)
        assert be._calls == 0
    finally:
        p.communicate("\n", timeout=60)


# ---- item 3: typos in presets ----

def test_load_recipe_refuses_a_typo(scratch_root):
    from coldstart_nb.recipes import ConfigError
    from coldstart_nb.cli import train_main
    from coldstart_nb.recipes import load_recipe
    d = (scratch_root / "reports/configs/sft_tiny.yaml").read_text()
    (scratch_root / "reports/configs/sft_typo.yaml").write_text(d + "lerning_rate: 0.5\n")
    with pytest.raises(ConfigError, match="lerning_rate") as e:
        load_recipe("sft", "typo")
    assert "'lr'" in str(e.value) and "valid" in str(e.value)
    with pytest.raises(ConfigError, match="lerning_rate"):
        train_main(["sft", "--preset", "typo", "--no-results"])
    assert load_recipe("sft", "tiny").lr == 0.001


def test_reproduce_validates_every_preset_before_running(scratch_root, monkeypatch):
    from coldstart_nb import cli
    ran = []
    monkeypatch.setattr(cli, "run_notebook", lambda s, *a, **k: ran.append(s.name) or scratch_root / "x.ipynb")
    for name in ("reflection", "eval"):
        (scratch_root / f"reports/configs/{name}_typo.yaml").write_text((scratch_root / f"reports/configs/{name}_tiny.yaml").read_text())
    with open(scratch_root / "reports/configs/eval_typo.yaml", "a") as f:
        f.write("limt: 3\n")
    with pytest.raises(SystemExit) as e:
        cli.reproduce_main(["--preset", "typo", "--stages", "reflection,eval"])
    assert e.value.code not in (0, None) and ran == [], f"stages ran before the typo was caught: {ran}"


def test_reproduce_error_names_key_and_file(scratch_root, monkeypatch, capsys):
    from coldstart_nb import cli
    monkeypatch.setattr(cli, "run_notebook", lambda *a, **k: scratch_root / "x.ipynb")
    (scratch_root / "reports/configs/eval_typo.yaml").write_text(
        (scratch_root / "reports/configs/eval_tiny.yaml").read_text() + "limt: 3\n")
    with pytest.raises(SystemExit):
        cli.reproduce_main(["--preset", "typo", "--stages", "eval"])
    err = capsys.readouterr().err
    assert "limt" in err and "eval_typo.yaml" in err and "'limit'" in err


# ---- item 7: cut-off trainer state ----

def test_cut_off_trainer_state_names_the_file(tmp_path):
    from coldstart_nb.train import PreflightError, last_checkpoint
    (tmp_path / "checkpoint-2").mkdir()
    (tmp_path / "checkpoint-2" / "trainer_state.json").write_text('{"global_step": 2}')
    (tmp_path / "checkpoint-4").mkdir()
    (tmp_path / "checkpoint-4" / "trainer_state.json").write_text('{"global_st')
    with pytest.raises(PreflightError, match=r"checkpoint-4[/\\]trainer_state\.json") as e:
        last_checkpoint(tmp_path)
    assert "Delete" in str(e.value)


# ---- item 2 and 7: finished training stages, empty datasets ----

def test_finished_grpo_is_skipped_with_same_config_and_refused_with_another(tmp_path):
    from dataclasses import replace
    from coldstart_nb.grpo import GRPORecipe, train_grpo
    from coldstart_nb.embedded import ensure_embedded
    from coldstart_nb.train import PreflightError
    from coldstart_nb.recipes import load_recipe
    ensure_embedded()
    rec = load_recipe("grpo", "tiny", GRPORecipe, output_dir=str(tmp_path), max_steps=2, save_steps=2, max_completion_length=16)
    t1, _ = train_grpo(rec, check=False)
    assert t1.state.global_step == 2
    weights = (tmp_path / "final" / "model.safetensors").read_bytes()
    t2, _ = train_grpo(rec, check=False)
    assert t2.state.global_step == 2 and getattr(t2, "skipped", False), "a finished stage must not train again"
    assert (tmp_path / "final" / "model.safetensors").read_bytes() == weights
    with pytest.raises(PreflightError, match="lr") as e:
        train_grpo(replace(rec, lr=1e-3), check=False)
    assert "output_dir" in str(e.value) and "delete" in str(e.value)
    assert (tmp_path / "final" / "model.safetensors").read_bytes() == weights


def test_finished_sft_with_another_lr_is_refused(tmp_path):
    from dataclasses import replace
    from coldstart_nb.embedded import ensure_embedded
    from coldstart_nb.sft import train_sft
    from coldstart_nb.train import PreflightError
    from coldstart_nb.recipes import load_recipe
    ensure_embedded()
    rec = load_recipe("sft", "tiny", output_dir=str(tmp_path), max_steps=2, save_steps=2, eval_fraction=0.0)
    train_sft(rec, check=False)
    record = json.loads((tmp_path / "final" / "coldstart_training.json").read_text())
    assert record["fingerprint"]["config"]["lr"] == 0.001 and record["global_step"] == 2
    with pytest.raises(PreflightError, match="lr"):
        train_sft(replace(rec, lr=0.5), check=False)


def test_empty_datasets_stop_training_before_it_starts(tmp_path):
    from coldstart_nb.grpo import GRPORecipe, train_grpo
    from coldstart_nb.embedded import ensure_embedded
    from coldstart_nb.sft import train_sft
    from coldstart_nb.train import PreflightError
    from coldstart_nb.recipes import load_recipe
    ensure_embedded()
    rec = load_recipe("grpo", "tiny", GRPORecipe, output_dir=str(tmp_path / "g"), max_steps=2)
    with pytest.raises(PreflightError, match="no training examples"):
        train_grpo(rec, dataset=datasets.Dataset.from_dict({"prompt": [], "images": [], "answer": []}), check=False)
    assert not (tmp_path / "g" / "final").exists()
    rec = load_recipe("sft", "tiny", output_dir=str(tmp_path / "s"), max_steps=2, eval_fraction=0.0)
    with pytest.raises(PreflightError, match="no training examples"):
        train_sft(rec, dataset=datasets.Dataset.from_dict({"prompt": [], "completion": [], "images": []}), check=False)
    assert not (tmp_path / "s" / "final").exists()


def test_only_a_longer_run_may_continue():
    from coldstart_nb.train import only_longer
    fp = {"stage": "grpo", "config": {"max_steps": 2, "epochs": 1.0, "lr": 1e-5}, "model": {"weights": "a"}, "data": "d"}
    longer = {**fp, "config": {**fp["config"], "max_steps": 4}}
    assert only_longer(fp, longer)
    assert not only_longer(longer, fp)                                               # shorter: refused
    assert not only_longer(fp, {**longer, "config": {**longer["config"], "lr": 1e-3}})  # longer and another lr
    assert not only_longer(fp, {**longer, "model": {"weights": "b"}})                # longer from another start model
    assert not only_longer(fp, fp)


def test_rebuilt_rl_data_is_one_file_with_one_identity(tmp_path):
    "The GRPO prompts are written to disk: building them again must not look like new data (the finished-stage check"
    " compares data identities) nor pile up files; other data must get another identity."
    from coldstart_nb.grpo import rl_dataset
    from coldstart_nb.embedded import ensure_embedded
    from coldstart_nb.train import data_identity
    ensure_embedded("data/synth/tiny", None, "tiny", 0)
    a = rl_dataset("synth:data/synth/tiny", limit=40, cache_dir=tmp_path)
    b = rl_dataset("synth:data/synth/tiny", limit=40, cache_dir=tmp_path)
    c = rl_dataset("synth:data/synth/tiny", limit=20, cache_dir=tmp_path)
    assert data_identity(a, "x") == data_identity(b, "x") != data_identity(c, "x")
    assert len(list(tmp_path.glob("*.arrow"))) == 2 and not list(tmp_path.glob("*.tmp"))
    assert len(a) == 40 and a[0]["prompt"] == b[0]["prompt"]
