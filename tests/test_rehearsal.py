"""The rehearsal presets (make paper PRESET=rehearsal) are paper-3b in every stage, flag and engine: each is compared with
its paper-3b twin field by field, and only the declared differences below (the stand-in model and data, sizes, and
two processes) may differ, so the two cannot drift apart. The rehearsal itself runs in the engine lane."""
from dataclasses import fields

import pytest

from coldstart_nb.pipeline import launch_command, planned_steps, step, use_launcher
from coldstart_nb.recipes import load_recipe

STAND_INS = {"model", "models", "teacher", "data", "source", "train_data", "val_data", "output_dir", "tokenizer"}   # what the paper downloads
SIZES = {"limit", "max_new_tokens", "batch_size", "max_steps", "epochs", "episodes", "logging_steps", "save_steps", "val_items"}
TINY_IMAGES = {"min_pixels", "max_pixels", "save_min_pixels", "save_max_pixels"}   # the synthetic figures are small
TWO_PROCESSES = {"num_gpus", "per_device_batch", "grad_accum", "prompts_per_rollout", "prompts_per_update", "micro_batch"}

# stage, rehearsal preset, paper-3b preset -> the fields allowed (and expected) to differ
DECLARED = {
    ("reflection", "rehearsal", "paper-3b"): {"models", "data", "limit", "max_new_tokens", "batch_size"},
    ("cot", "rehearsal", "paper-3b"): {"teacher", "source", "limit", "max_new_tokens", "batch_size", "tokenizer",
                                      "decontaminate",   # the synthetic test split stands in for the four benchmarks
                                      "decon_text",      # templated synthetic questions share their n-grams by design
                                      "min_tokens"},     # the tiny model's traces are short
    ("sft", "rehearsal", "paper-3b"): {"model", "data", "output_dir", "num_gpus", "per_device_batch", "grad_accum", "epochs",
                                      "max_steps", "logging_steps", "save_steps", *TINY_IMAGES,
                                      "lr",              # large enough to move the tiny model in a few steps
                                      "eval_fraction"},  # a few dozen rows: no held-out split
    ("grpo", "rehearsal", "paper-3b"): {"model", "train_data", "output_dir", "num_gpus", "prompts_per_rollout", "prompts_per_update",
                                       "micro_batch", "max_prompt_length", "max_completion_length", "min_pixels", "max_pixels",
                                       "episodes", "max_steps", "save_steps", "lr", "val_data", "val_items"},
    ("grpo", "rehearsal-rlonly", "paper-3b-rlonly"): {"model", "train_data", "output_dir", "num_gpus", "prompts_per_rollout",
                                                     "prompts_per_update", "micro_batch", "max_prompt_length", "max_completion_length",
                                                     "min_pixels", "max_pixels", "episodes", "max_steps", "save_steps", "lr",
                                                     "val_data", "val_items"},
    ("eval", "rehearsal", "paper-3b"): {"models", "data", "limit", "max_new_tokens", "batch_size",
                                       "compare"},   # no released RLCS checkpoint to stand in for: its comparisons go
    ("paper", "rehearsal", "paper-3b"): set(),
}
ALLOWED_KINDS = STAND_INS | SIZES | TINY_IMAGES | TWO_PROCESSES | {"lr", "eval_fraction", "max_prompt_length", "max_completion_length",
                                                                  "decontaminate", "decon_text", "min_tokens", "compare"}


@pytest.mark.parametrize("stage,rehearsal,paper", list(DECLARED), ids=[f"{s}_{r}" for s, r, _ in DECLARED])
def test_the_rehearsal_differs_from_its_twin_only_as_declared(stage, rehearsal, paper):
    a, b = load_recipe(stage, rehearsal), load_recipe(stage, paper)
    differ = {f.name for f in fields(a) if getattr(a, f.name) != getattr(b, f.name)}
    declared = DECLARED[(stage, rehearsal, paper)]
    assert differ - declared == set(), f"{stage}_{rehearsal} differs from {stage}_{paper} in undeclared fields: {sorted(differ - declared)}"
    assert declared - differ == set(), f"declared differences that are no longer different (update DECLARED): {sorted(declared - differ)}"
    assert declared <= ALLOWED_KINDS   # never an engine, a flag of the loss or the optimizer


def test_every_paper_stage_has_a_rehearsal_twin():
    paper = {s.name for s in planned_steps("paper-3b")}
    rehearsal = {s.name for s in planned_steps("rehearsal")}
    assert paper <= rehearsal and rehearsal - paper == {"data", "base"}   # the two stand-in builders paper-3b does not need
    assert {(s, r, p) for s, r, p in DECLARED} >= {(step(n).stage, step(n).preset("rehearsal"), step(n).preset("paper-3b")) for n in paper}


@pytest.mark.parametrize("name,zero", [("sft", 2), ("grpo", 3), ("rlonly", 3)])
def test_training_launches_as_the_paper_run_does(name, zero):
    s = step(name)
    assert use_launcher(s, "rehearsal", mode="auto") and use_launcher(s, "paper-3b", mode="auto")
    for preset, n in (("rehearsal", "2"), ("paper-3b", None)):
        cmd = launch_command(s, preset, cpu=False)
        assert cmd[cmd.index("--config_file") + 1].endswith(f"deepspeed_zero{zero}.yaml")
        if n: assert cmd[cmd.index("--num_processes") + 1] == n


def test_a_local_vllm_teacher_is_found_from_the_run_notebooks(monkeypatch, root):
    "Found by the rehearsal: the CoT stage handed vLLM the teacher's path as written, and the run notebook's working directory is nbs/."
    import coldstart_nb.generate as gen
    from coldstart_nb.stages import CotRecipe, cot_teacher
    asked = []
    monkeypatch.setattr(gen, "VLLMBackend", lambda model, **kw: asked.append(model))
    cot_teacher(CotRecipe(teacher="checkpoints/base-rehearsal/final", teacher_backend="vllm"), [])
    cot_teacher(CotRecipe(teacher="Qwen/Qwen2.5-VL-32B-Instruct", teacher_backend="vllm"), [])
    assert asked == [str(root / "checkpoints" / "base-rehearsal" / "final"), "Qwen/Qwen2.5-VL-32B-Instruct"]


def test_a_cot_stage_that_keeps_nothing_stops_there(root):
    "Found by the rehearsal: a teacher whose every trace was rejected gave an empty set, and the run died later, in SFT."
    import shutil
    from coldstart_nb.stages import run_stage
    name = "test-empty-cot"
    try:
        with pytest.raises(RuntimeError, match="kept no example"):
            run_stage("cot", "tiny", {"error_rate": 1.0, "limit": 8}, name=name, write=False)
    finally: shutil.rmtree(root / "data" / "cot" / name, ignore_errors=True)


def test_results_keep_settings_that_merely_mention_tokens():
    "Found by the rehearsal: results files showed max_new_tokens, min_tokens and tokenizer as '***'."
    from coldstart_nb.core import redact
    cfg = load_recipe("cot", "rehearsal").to_dict()
    shown = redact(cfg)
    keys = ("max_new_tokens", "min_tokens", "tokenizer")
    assert [shown[k] for k in keys] == [cfg[k] for k in keys]
