"""DeepSpeed ZeRO-2 and ZeRO-3 for SFT then GRPO on 2 CPU processes (gloo), launched as `make paper` launches them: the
launch command and accelerate config of `pipeline.launch_command` (its CPU copy), recipes naming the committed DeepSpeed
JSON. Checks that the engine is really active at the requested stage with an fp32 master copy, that both ranks hold
identical gathered weights, that `save_model` output opens in stock `from_pretrained` with exactly those weights, and
that a launch killed right after a step-2 checkpoint resumes from it and ends with the weights of a straight run
(issue 22: exact resume on the ZeRO path)."""
import json
import shutil
import subprocess
import sys

import pytest
import torch

from conftest import ENV, HANG_GUARD, HERE, ROOT, free_port, run

STAGES = (2, 3)


def launch(out, zero: int, stop: str = "none") -> list[dict]:
    "SFT then GRPO, 4 steps each, on 2 processes; `stop` kills the launch right after that stage's step-2 checkpoint."
    from coldstart_nb.pipeline import accelerate_config
    accelerate = shutil.which("accelerate", path=str(sys.executable.rsplit("/", 1)[0]))
    cmd = [accelerate, "launch", "--config_file", str(accelerate_config(zero, cpu=True)), "--num_processes", "2",
           "--main_process_port", str(free_port()), str(HERE / "zero_worker.py"), str(out), str(zero), "4", stop]
    if stop == "none": run(cmd, env={"OMP_NUM_THREADS": "1"})
    else:
        p = subprocess.run(cmd, capture_output=True, text=True, env={**ENV, "OMP_NUM_THREADS": "1"}, cwd=ROOT, timeout=HANG_GUARD)
        assert p.returncode != 0 and "Interrupted" in p.stdout + p.stderr, (p.stdout + p.stderr)[-4000:]
    return [json.loads((out / f"rank{r}.json").read_text()) if (out / f"rank{r}.json").exists() else {} for r in (0, 1)]


@pytest.fixture(scope="module", params=STAGES, ids=[f"zero{z}" for z in STAGES])
def runs(request, embedded, tmp_path_factory):
    "Killed after SFT's checkpoint 2, resumed and killed after GRPO's, resumed to the end; and a straight run beside it."
    z = request.param
    out, straight = tmp_path_factory.mktemp(f"zero{z}"), tmp_path_factory.mktemp(f"zero{z}-straight")
    launch(out, z, "sft")
    launch(out, z, "grpo")
    resumed = launch(out, z)
    return z, out, resumed, launch(straight, z), straight


def test_the_requested_engine_trains_with_fp32_masters(runs):
    z, _, resumed, straight, _ = runs
    for info in resumed + straight:
        for stage in ("sft", "grpo"):
            s = info[stage]
            assert (s["engine"], s["zero_stage"], s["master_dtype"]) == (f"deepspeed-zero{z}", z, "torch.float32"), (stage, s)
            if z == 3: assert s["local_elements"] < s["total_elements"]   # partitioned: a rank holds part of each weight


def test_ranks_hold_identical_gathered_weights(runs):
    _, _, resumed, straight, _ = runs
    for run_ in (resumed, straight):
        for stage in ("sft", "grpo"):
            assert run_[0][stage]["digest"] == run_[1][stage]["digest"], stage


def test_save_model_opens_in_stock_from_pretrained(runs):
    from transformers import Qwen2_5_VLForConditionalGeneration
    _, out, _, _, straight = runs
    for d in (out, straight):
        for stage in ("sft", "grpo"):
            trained = torch.load(d / f"{stage}_weights.pt")
            stock = dict(Qwen2_5_VLForConditionalGeneration.from_pretrained(d / stage / "final").named_parameters())
            assert set(stock) == set(trained), stage
            assert max((stock[n].detach().float() - trained[n]).abs().max().item() for n in stock) == 0.0, stage


def test_a_killed_run_resumes_from_its_checkpoint(runs):
    _, out, resumed, _, _ = runs
    for info in resumed:
        for stage in ("sft", "grpo"):
            assert (info[stage]["start_step"], info[stage]["steps_run"], info[stage]["global_step"]) == (2, 2, 4), (stage, info[stage])
    assert (out / "sft" / "checkpoint-4").exists() and (out / "grpo" / "checkpoint-4").exists()


def test_the_resumed_run_equals_the_uninterrupted_one(runs):
    "Issue 22 item 1 on the ZeRO path: killed after checkpoint 2 and run again, each stage ends with a straight run's weights."
    _, _, resumed, straight, _ = runs
    for stage in ("sft", "grpo"):
        assert resumed[0][stage]["global_step"] == straight[0][stage]["global_step"] == 4
        assert straight[0][stage]["start_step"] == 0 and straight[0][stage]["steps_run"] == 4
        assert resumed[0][stage]["digest"] == straight[0][stage]["digest"], stage
