"""DeepSpeed ZeRO-2 and ZeRO-3 for SFT then GRPO on 2 CPU processes (gloo), launched as `make paper` launches them: the
launch command and accelerate config of `pipeline.launch_command` (its CPU copy), recipes naming the committed DeepSpeed
JSON. Checks that the engine is really active at the requested stage with an fp32 master copy, that both ranks hold
identical gathered weights, that `save_model` output opens in stock `from_pretrained` with exactly those weights, and
that a second launch resumes from the step-2 checkpoint (issue 22: exact resume on the ZeRO path)."""
import json
import shutil
import sys

import pytest
import torch

from conftest import HERE, free_port, run

STAGES = (2, 3)


def launch(out, zero: int, sft_steps: int, grpo_steps: int) -> list[dict]:
    from coldstart_nb.pipeline import accelerate_config
    accelerate = shutil.which("accelerate", path=str(sys.executable.rsplit("/", 1)[0]))
    for f in out.glob("rank*.json"): f.unlink()
    run([accelerate, "launch", "--config_file", str(accelerate_config(zero, cpu=True)), "--num_processes", "2",
         "--main_process_port", str(free_port()), str(HERE / "zero_worker.py"), str(out), str(zero), str(sft_steps), str(grpo_steps)],
        env={"OMP_NUM_THREADS": "1"})
    return [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]


@pytest.fixture(scope="module", params=STAGES, ids=[f"zero{z}" for z in STAGES])
def runs(request, embedded, tmp_path_factory):
    z = request.param
    out = tmp_path_factory.mktemp(f"zero{z}")
    first = launch(out, z, 2, 2)
    second = launch(out, z, 4, 4)   # resumes from checkpoint-2
    straight = tmp_path_factory.mktemp(f"zero{z}-straight")
    launch(straight, z, 4, 4)       # the same 4 steps without a stop: what the resumed run must equal
    return z, out, first, second, [json.loads((straight / f"rank{r}.json").read_text()) for r in (0, 1)]


def test_the_requested_engine_trains_with_fp32_masters(runs):
    z, _, first, _, _ = runs
    for info in first:
        for stage in ("sft", "grpo"):
            s = info[stage]
            assert (s["engine"], s["zero_stage"], s["master_dtype"]) == (f"deepspeed-zero{z}", z, "torch.float32"), (stage, s)
            if z == 3: assert s["local_elements"] < s["total_elements"]   # partitioned: a rank holds part of each weight


def test_ranks_hold_identical_gathered_weights(runs):
    _, _, first, second, _ = runs
    for run_ in (first, second):
        for stage in ("sft", "grpo"):
            assert run_[0][stage]["digest"] == run_[1][stage]["digest"], stage


def test_save_model_opens_in_stock_from_pretrained(runs):
    from transformers import Qwen2_5_VLForConditionalGeneration
    _, out, _, _, _ = runs
    for stage in ("sft", "grpo"):
        trained = torch.load(out / f"{stage}_weights.pt")
        stock = dict(Qwen2_5_VLForConditionalGeneration.from_pretrained(out / stage / "final").named_parameters())
        assert set(stock) == set(trained), stage
        assert max((stock[n].detach().float() - trained[n]).abs().max().item() for n in stock) == 0.0, stage


def test_a_second_launch_resumes_from_the_checkpoint(runs):
    _, out, first, second, _ = runs
    for stage in ("sft", "grpo"):
        assert (first[0][stage]["start_step"], first[0][stage]["global_step"]) == (0, 2)
        for info in second:
            assert (info[stage]["start_step"], info[stage]["steps_run"], info[stage]["global_step"]) == (2, 2, 4), (stage, info[stage])
        assert first[0][stage]["digest"] != second[0][stage]["digest"]   # the two further steps changed the weights
    assert (out / "sft" / "checkpoint-4").exists() and (out / "grpo" / "checkpoint-4").exists()


def test_the_resumed_run_equals_the_uninterrupted_one(runs):
    "Issue 22 item 1 on the ZeRO path: stopped after checkpoint-2 and resumed, the run ends where a straight run does."
    _, _, _, second, straight = runs
    for stage in ("sft", "grpo"):
        assert second[0][stage]["global_step"] == straight[0][stage]["global_step"] == 4
        assert second[0][stage]["digest"] == straight[0][stage]["digest"], stage
