"""Multi-process training proven on CPU (issue 12, defects 2, 3, 6): SFT and GRPO under
`accelerate launch --multi_gpu --num_processes 2` (torchrun; the trainers' `use_cpu` makes accelerate pick gloo).
Each rank sees the batch plan of a 2-process launch, both ranks hold identical weights after the steps, the saved
checkpoints open in the stock loaders, a second launch resumes from the last checkpoint, and a launch whose process
count disagrees with the preset stops before loading anything."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from transformers import AutoImageProcessor, Qwen2_5_VLForConditionalGeneration

from coldstart_nb.models import VLProcessor
from coldstart_nb.embedded import ensure_embedded
from coldstart_nb.sft import train_sft
from coldstart_nb.train import PreflightError, check_world_size
from coldstart_nb.recipes import load_recipe
from conftest import ROOT

WORKER = ROOT / "tests" / "mp_worker.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(out: Path, sft_steps: int, grpo_steps: int) -> tuple[list[dict], str]:
    "Run the worker on 2 CPU processes; returns each rank's report and the log."
    accelerate = Path(sys.executable).parent / "accelerate"
    cmd = [str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
           "--dynamo_backend", "no", "--main_process_port", str(free_port()), str(WORKER), str(out), str(sft_steps), str(grpo_steps)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "COLDSTART_NB_ROOT": str(ROOT)}
    for f in out.glob("rank*.json"):
        f.unlink()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)   # hang guard only
    log = p.stdout + p.stderr
    assert p.returncode == 0, log[-4000:]
    return [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)], log


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    ensure_embedded(progress=False)
    out = tmp_path_factory.mktemp("mp")
    first, _ = launch(out, 2, 2)
    second, _ = launch(out, 4, 4)
    return out, first, second


def test_batch_plan_per_rank(runs):
    _, first, _ = runs
    for r, info in enumerate(first):
        assert info["world_size"] == 2 and info["sft"]["processes"] == 2 and info["sft"]["process_index"] == r
        s, g = info["sft"], info["grpo"]
        assert s["per_device"] * s["accum"] * 2 == 16                     # tiny preset: 8 per device x 1 x 2 processes
        assert g["per_device"] * g["accum"] * 2 == g["plan"]["responses_per_update"] == 4 * 4
        assert g["steps_per_generation"] == g["plan"]["steps_per_generation"] == 2
        assert g["rollout_sizes"][0] * 2 == g["plan"]["generation_batch_size"] == 8 * 4   # each rank rolls out its half


def test_ranks_hold_identical_weights(runs):
    _, first, second = runs
    for stage in ("sft", "grpo"):
        for run in (first, second):
            assert run[0][stage]["digest"] == run[1][stage]["digest"], stage
    assert first[0]["grpo"]["start_digest"] == first[0]["sft"]["digest"]   # GRPO started from the SFT checkpoint ...
    assert first[0]["grpo"]["digest"] != first[0]["grpo"]["start_digest"]  # ... and its steps changed the weights


def test_resume_continues_from_the_last_checkpoint(runs):
    out, first, second = runs
    for stage in ("sft", "grpo"):
        assert (first[0][stage]["start_step"], first[0][stage]["global_step"]) == (0, 2)
        for info in second:
            assert (info[stage]["start_step"], info[stage]["steps_run"], info[stage]["global_step"]) == (2, 2, 4), (stage, info[stage])
    assert (out / "sft" / "checkpoint-4").exists() and (out / "grpo" / "checkpoint-4").exists()


@pytest.fixture(scope="module")
def rerun_at_the_end(runs):
    "The finished 4-step runs with their `final/` deleted, launched again on 2 processes (issue 22 item 1 under accelerate)."
    import shutil
    out, _, second = runs
    finals = {stage: (out / stage / "final" / "model.safetensors").read_bytes() for stage in ("sft", "grpo")}
    for stage in ("sft", "grpo"): shutil.rmtree(out / stage / "final")
    third, _ = launch(out, 4, 4)
    return out, second, third, finals


def test_resume_at_the_end_trains_no_further_on_two_processes(rerun_at_the_end):
    out, second, third, finals = rerun_at_the_end
    for stage in ("sft", "grpo"):
        for info in third:
            assert (info[stage]["start_step"], info[stage]["steps_run"], info[stage]["global_step"]) == (4, 0, 4), (stage, info[stage])
        assert third[0][stage]["digest"] == third[1][stage]["digest"] == second[0][stage]["digest"], stage
        assert (out / stage / "final" / "model.safetensors").read_bytes() == finals[stage], stage


def test_checkpoints_open_in_stock_loaders(runs):
    from test_checkpoint_format import _stock_or_torchvision_error
    from transformers import AutoProcessor
    out, _, _ = runs
    for stage, lo in (("sft", 3136), ("grpo", 784)):
        final = out / stage / "final"
        assert json.loads((final / "processor_config.json").read_text())["processor_class"] == "Qwen2_5_VLProcessor"
        _stock_or_torchvision_error(AutoProcessor.from_pretrained, final)
        assert AutoImageProcessor.from_pretrained(final).size["shortest_edge"] == lo
        assert VLProcessor.from_pretrained(final).image_token_id is not None
        m = Qwen2_5_VLForConditionalGeneration.from_pretrained(final)
        assert sum(p.numel() for p in m.parameters()) > 0 and all(p.numel() > 0 for p in m.parameters())


def test_preset_and_launch_disagree(monkeypatch):
    rec = load_recipe("sft", "paper-3b")
    with pytest.raises(PreflightError, match="num_gpus=4 processes but this run has 1"):
        check_world_size(rec.num_gpus, world=1)
    assert check_world_size(rec.num_gpus, world=4) == 4
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(PreflightError, match="--num_processes 1"):
        train_sft(load_recipe("sft", "tiny", model="/nonexistent"))   # stops before touching the model


def test_devices_by_local_rank(monkeypatch):
    "Defect 3: under a launcher every rank used to load onto cuda:0."
    import torch
    from coldstart_nb.core import pick_device
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 8)
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert pick_device() == "cuda:3"
    monkeypatch.delenv("LOCAL_RANK")
    assert pick_device() == "cuda"


def test_resume_under_sharding_leaves_loading_to_the_engine(tmp_path, monkeypatch):
    "Defect 6: our strict reload of a checkpoint cannot run on ZeRO-3/FSDP-partitioned parameters; their engines restore their shards."
    import types
    from coldstart_nb import train
    calls = []
    monkeypatch.setattr(train, "restore_weights", lambda model, ck: calls.append(ck))
    (tmp_path / "checkpoint-2").mkdir()
    (tmp_path / "checkpoint-2" / "trainer_state.json").write_text("{}")
    for ds, fsdp, restored in ((False, False, True), (True, False, False), (False, True, False)):
        calls.clear()
        t = types.SimpleNamespace(model=None, is_deepspeed_enabled=ds, is_fsdp_enabled=fsdp)
        assert train.resume_from(t, tmp_path, True) == str(tmp_path / "checkpoint-2")
        assert bool(calls) == restored
    assert train.resume_from(t, tmp_path, False) is None


def test_coldstart_train_under_accelerate(tmp_path):
    "What `make paper` starts per training stage: `accelerate launch ... coldstart-train` exits 0 and rank 0 writes the results."
    ensure_embedded(progress=False)
    bin_dir = Path(sys.executable).parent
    cmd = [str(bin_dir / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
           "--dynamo_backend", "no", "--main_process_port", str(free_port()), str(bin_dir / "coldstart-train"), "sft", "--preset", "tiny",
           f"output_dir={tmp_path / 'sft'}", "max_steps=1", "eval_fraction=0.0", "num_gpus=2", "--no-results"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "COLDSTART_NB_ROOT": str(ROOT)}
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)   # hang guard only
    assert p.returncode == 0, (p.stdout + p.stderr)[-4000:]
    assert (tmp_path / "sft" / "final" / "model.safetensors").exists()
    assert p.stdout.count("'summary'") == 1 and "'processes': 2" in p.stdout     # rank 0 reports, once


def test_final_checkpoint_is_written_by_save_model():
    "Defect 6: under ZeRO-3 `model.save_pretrained` writes empty shards; `trainer.save_model` gathers them (every rank calls it)."
    import types
    from coldstart_nb.train import save_final
    calls = []
    model = types.SimpleNamespace(save_pretrained=lambda *a, **k: calls.append("model.save_pretrained"))
    for rank0 in (True, False):
        calls.clear()
        t = types.SimpleNamespace(model=model, save_model=lambda d: calls.append("trainer.save_model"),
                                  is_world_process_zero=lambda r=rank0: r,
                                  accelerator=types.SimpleNamespace(wait_for_everyone=lambda: calls.append("barrier")))
        proc = types.SimpleNamespace(save_pretrained=lambda d, **kw: calls.append(("processor", kw["min_pixels"], kw["max_pixels"])))
        save_final(t, proc, Path("/nonexistent/out"), lora=False, min_pixels=262144, max_pixels=1204224)
        assert calls[0] == "trainer.save_model" and "model.save_pretrained" not in calls
        assert (("processor", 262144, 1204224) in calls) == rank0


def test_an_fsdp_launch_that_would_train_as_ddp_stops(tmp_path):
    """Issue 20: accelerate 1.16 enables FSDP only for GPU-type setups, so our FSDP config launched on CPU used to train plain
    DDP and exit 0. `check_engine` now stops the run, naming what happened (FSDP2 on CPU would need accelerate patched)."""
    import yaml
    ensure_embedded(progress=False)
    cfg = yaml.safe_load((ROOT / "reports" / "configs" / "accelerate" / "fsdp.yaml").read_text())
    cfg.update(use_cpu=True, num_processes=2, mixed_precision="no")
    (tmp_path / "fsdp-cpu.yaml").write_text(yaml.safe_dump(cfg))
    bin_dir = Path(sys.executable).parent
    cmd = [str(bin_dir / "accelerate"), "launch", "--config_file", str(tmp_path / "fsdp-cpu.yaml"), "--main_process_port", str(free_port()),
           str(bin_dir / "coldstart-train"), "sft", "--preset", "tiny", f"output_dir={tmp_path / 'sft'}", "max_steps=1",
           "eval_fraction=0.0", "num_gpus=2", "--no-results"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "COLDSTART_NB_ROOT": str(ROOT)}
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)   # hang guard only
    log = p.stdout + p.stderr
    assert p.returncode != 0, log[-3000:]
    assert "asks for FSDP" in log and "falls back to DDP" in log, log[-3000:]
    assert not (tmp_path / "sft" / "final").exists()
