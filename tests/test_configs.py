"""Every preset loads into its recipe, the accelerate/DeepSpeed configs parse and agree on their ZeRO stage,
and the paper presets carry SPEC sections 4-5 exactly."""
import json

import pytest
import yaml

from coldstart_nb.grpo import GRPORecipe, batch_plan
from coldstart_nb.sft import SFTRecipe, load_recipe, zero_stage
from conftest import ROOT

CFG = ROOT / "reports" / "configs"


@pytest.mark.parametrize("path", sorted(CFG.glob("sft_*.yaml")) + sorted(CFG.glob("grpo_*.yaml")), ids=lambda p: p.name)
def test_presets_load(path):
    stage, preset = path.stem.split("_", 1)
    r = load_recipe(stage, preset, SFTRecipe if stage == "sft" else GRPORecipe)
    if stage == "grpo":
        plan = batch_plan(r)
        assert plan["per_device_train_batch_size"] * plan["gradient_accumulation_steps"] * r.num_gpus == r.prompts_per_update * r.num_generations
    if r.deepspeed:
        assert (ROOT / r.deepspeed).exists()


def test_deepspeed_and_accelerate_configs():
    for stage in (2, 3):
        ds = json.loads((CFG / "deepspeed" / f"zero{stage}.json").read_text())
        assert ds["zero_optimization"]["stage"] == stage == zero_stage(f"reports/configs/deepspeed/zero{stage}.json")
        acc = yaml.safe_load((CFG / "accelerate" / f"deepspeed_zero{stage}.yaml").read_text())
        assert acc["distributed_type"] == "DEEPSPEED" and (ROOT / acc["deepspeed_config"]["deepspeed_config_file"]).exists()
    fsdp = yaml.safe_load((CFG / "accelerate" / "fsdp.yaml").read_text())
    assert fsdp["distributed_type"] == "FSDP" and "Qwen2_5_VLDecoderLayer" in fsdp["fsdp_config"]["fsdp_transformer_layer_cls_to_wrap"]


@pytest.mark.parametrize("size", ["3b", "7b"])
def test_paper_grpo_presets(size):
    r = load_recipe("grpo", f"paper-{size}", GRPORecipe)
    assert (r.num_generations, r.temperature, r.top_p, r.lr, r.beta, r.clip_low, r.clip_high, r.dual_clip, r.kl_clamp, r.adv_eps) == \
           (10, 0.7, 0.99, 1e-6, 0.01, 0.2, 0.3, 3.0, 10.0, 1e-6)
    assert (r.prompts_per_rollout, r.prompts_per_update, r.episodes, r.weight_decay, r.max_grad_norm) == (512, 128, 2.0, 1e-2, 1.0)
    assert (r.max_prompt_length, r.max_completion_length, r.min_pixels, r.max_pixels) == (2048, 2048, 262144, 1204224)
    assert not r.freeze_vision and r.rl_system == "" and r.reward == "accuracy" and r.model.startswith("checkpoints/sft-paper")
    assert batch_plan(r)["updates_per_rollout"] == 4
