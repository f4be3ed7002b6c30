"""Issue 23 items 1, 2 and 5: a tiny GRPO run writes TensorBoard event files with rewards, KL, rollouts (text and images),
throughput, the time split, MFU and validation scores, and they read back; the language model's FLOPs equal EasyR1's own
counter (`data/fixtures/easyr1/flops_counter.py`, verbatim, Apache-2.0); validation leaves the trained weights as they
would be without it; an unknown tracker is refused before any work."""
import importlib.util
import json
from pathlib import Path

import pytest
import torch
from transformers import Qwen2_5_VLConfig

from coldstart_nb.core import project_path
from coldstart_nb.embedded import ensure_embedded
from coldstart_nb.recipes import ConfigError, load_recipe
from coldstart_nb.track import PERF_KEYS, actor_flops, lm_flops
from coldstart_nb.train import TRAINING_RECORD

FIXTURE = project_path("data", "fixtures", "easyr1", "flops_counter.py")


def easyr1_counter():
    "EasyR1's `verl/utils/flops_counter.py` as a module (it imports only torch and typing)."
    spec = importlib.util.spec_from_file_location("easyr1_flops_counter", FIXTURE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def qwen_config(hidden, layers, heads, kv, inter, vocab):
    return Qwen2_5_VLConfig(text_config=dict(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                                             num_key_value_heads=kv, intermediate_size=inter, vocab_size=vocab))


CONFIGS = {"3b": (2048, 36, 16, 2, 11008, 151936), "7b": (3584, 28, 28, 4, 18944, 152064), "tiny": (64, 2, 2, 1, 128, 512)}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_lm_flops_equal_easyr1s_counter(name):
    cfg = qwen_config(*CONFIGS[name])
    counter = easyr1_counter().FlopsCounter(cfg)   # it reads `text_config` of a qwen2_5_vl config, as we do
    g = torch.Generator().manual_seed(len(name))
    for _ in range(5):
        seqlens = torch.randint(50, 4096, (16,), generator=g).tolist()
        theirs = counter._estimate_llama_flops(sum(seqlens), seqlens, 1.0) * 1e12   # TFLOP/s over 1 s -> FLOPs
        ours = lm_flops(cfg.text_config, seqlens)
        assert ours == pytest.approx(theirs, rel=1e-12), (name, ours, theirs)
    assert actor_flops(cfg, seqlens, [1024])["vision"] > 0 and actor_flops(cfg, seqlens)["vision"] == 0


def test_an_unknown_tracker_is_refused_before_any_work():
    with pytest.raises(ConfigError, match="report_to"):
        load_recipe("grpo", "tiny", report_to="tensorbord")
    with pytest.raises(ConfigError, match="report_to"):
        load_recipe("sft", "tiny", report_to="wandb,nope")


def events(run_dir: Path):
    "Every TensorBoard event file under `run_dir`, merged: (scalars by tag, images by tag, texts by tag)."
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    scalars, images, texts = {}, {}, {}
    for f in sorted(run_dir.rglob("events.out.tfevents.*")):
        ea = EventAccumulator(str(f), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
        ea.Reload()
        tags = ea.Tags()
        for t in tags["scalars"]: scalars.setdefault(t, []).extend((e.step, e.value) for e in ea.Scalars(t))
        for t in tags["images"]: images.setdefault(t, []).extend(ea.Images(t))
        for t in tags["tensors"]:
            texts.setdefault(t, []).extend(e.tensor_proto.string_val[0].decode() for e in ea.Tensors(t) if e.tensor_proto.string_val)
    return scalars, images, texts


def run_tiny_grpo(out: Path, **over):
    from coldstart_nb.grpo import train_grpo
    ensure_embedded(progress=False)
    r = load_recipe("grpo", "tiny", output_dir=str(out), max_steps=2, save_steps=100, resume=False, val_items=4, **over)
    trainer, _ = train_grpo(r)
    return trainer


@pytest.fixture(scope="module")
def tracked(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("COLDSTART_PEAK_FLOPS", "1e12")   # a stated peak for this CPU, so MFU is logged
    out = tmp_path_factory.mktemp("grpo-tracked")
    try: trainer = run_tiny_grpo(out, completions_every=1, val_every=1)
    finally: mp.undo()
    return out, trainer


def test_tiny_grpo_writes_tracker_files_that_read_back(tracked):
    out, trainer = tracked
    scalars, images, texts = events(out / "runs")
    for tag in ("train/reward", "train/kl", "train/loss", "train/perf/throughput", "train/perf/time_per_step",
                "train/timing/generation_s", "train/timing/reward_s", "train/timing/update_s", "train/perf/mfu_actor",
                "train/perf/mfu_actor_lm", "train/val/accuracy", "rollouts/reflection_share"):
        assert tag in scalars, f"{tag} missing; logged: {sorted(scalars)}"
    assert [s for s, _ in scalars["train/perf/throughput"]] == [1, 2]
    assert all(v > 0 for _, v in scalars["train/perf/throughput"])
    gen = dict(scalars["train/timing/generation_s"])   # one rollout feeds two updates (grpo_tiny): it lands on the first
    assert gen[1] > 0 and gen[2] == 0, gen
    mfu = dict(scalars["train/perf/mfu_actor"])
    tflops = dict(scalars["train/perf/tflops_actor"])
    assert mfu[2] == pytest.approx(tflops[2] / 1.0, rel=1e-5)   # peak 1e12: MFU = achieved TFLOP/s
    assert dict(scalars["train/perf/mfu_actor_lm"])[2] < mfu[2]   # the vision tower's FLOPs are counted too
    # validation: mid-run at step 1 (val_every=1; the last step is left to the one after training), then after training
    assert sorted(s for s, _ in scalars["train/val/accuracy"]) == [1, 2]
    assert all(0 <= v <= 1 for _, v in scalars["train/val/accuracy"])
    # rollouts: a table per step with the reflection flag, and the images of the batch
    table = texts["rollouts/completions/text_summary"]
    assert len(table) == 2 and all("| reflection |" in t and "reward/accuracy" in t for t in table)
    assert images["rollouts/image_0"] and images["rollouts/image_0"][0].width > 0
    # TRL's own completion table (what wandb/trackio get) carries the reflection column
    import pandas as pd
    parquet = sorted((out / "completions").glob("completions_*.parquet"))
    assert len(parquet) == 2 and "reflection" in pd.read_parquet(parquet[-1]).columns
    # every training log line of the history carries the perf metrics; the validation lines do not
    lines = [h for h in trainer.state.log_history if "loss" in h]
    assert len(lines) == 2 and all({"perf/throughput", "perf/mfu_actor", "timing/update_s"} <= set(h) for h in lines)
    assert all(not set(PERF_KEYS) & set(h) for h in trainer.state.log_history if "val/accuracy" in h)


def test_validation_leaves_the_trained_weights_as_without_it(tracked, tmp_path):
    out, _ = tracked
    plain = run_tiny_grpo(tmp_path / "plain", completions_every=0, val_data="", report_to="none")
    from safetensors.torch import load_file
    a = load_file(str(out / "final" / "model.safetensors"))
    b = load_file(str(tmp_path / "plain" / "final" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not (tmp_path / "plain" / "runs").exists()   # report_to=none writes no tracker files
    rec = json.loads((out / "final" / TRAINING_RECORD).read_text())   # the final model's record keeps the validation scores
    assert [h["step"] for h in rec["log_history"] if "val/accuracy" in h] == [1, 2]
    assert plain.state.global_step == 2


def test_a_run_notebook_streams_its_own_output_live(tmp_path, capfd):
    "Issue 23 item 3: `coldstart-reproduce` shows what a stage prints as it runs (not only papermill's cell counter)."
    from coldstart_nb.pipeline import run_notebook, step
    out = run_notebook(step("data"), "tiny", out_dir=tmp_path)
    live = capfd.readouterr()
    assert "# data preset 'tiny'" in live.out   # the kernel's print, on our stdout while the notebook ran
    kept = json.loads(out.read_text())
    texts = "".join("".join(o.get("text", "")) for c in kept["cells"] for o in c.get("outputs", []) if o.get("output_type") == "stream")
    assert "# data preset 'tiny'" in texts   # and kept in the executed notebook
    assert "Executing:" not in live.err   # no cell counter interleaved


def test_training_prints_plain_progress_lines(tracked, capfd):
    from coldstart_nb.track import StepProgress
    out, trainer = tracked
    assert any(isinstance(c, StepProgress) for c in trainer.callback_handler.callbacks)
    cb = next(c for c in trainer.callback_handler.callbacks if isinstance(c, StepProgress))
    cb.on_train_begin(trainer.args, trainer.state, trainer.control)
    cb.on_step_end(trainer.args, trainer.state, trainer.control)
    assert f"[grpo] step 2/{trainer.state.max_steps} (100%)" in capfd.readouterr().err
