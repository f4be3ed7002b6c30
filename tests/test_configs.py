"""Every preset loads into its recipe, the accelerate/DeepSpeed configs parse and agree on their ZeRO stage,
and the paper presets carry SPEC sections 4-5 exactly."""
import json

import pytest
import yaml

from coldstart_nb.grpo import GRPORecipe, batch_plan
from coldstart_nb.sft import SFTRecipe
from coldstart_nb.train import zero_stage
from coldstart_nb.recipes import load_recipe
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
    # the final checkpoint must open with from_pretrained: ZeRO-3 gathers 16-bit weights on save, FSDP saves a full state dict
    z3 = json.loads((CFG / "deepspeed" / "zero3.json").read_text())
    assert z3["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"] is True
    assert fsdp["fsdp_config"]["fsdp_state_dict_type"] == "FULL_STATE_DICT"


@pytest.mark.parametrize("size", ["3b", "7b"])
def test_paper_grpo_presets(size):
    r = load_recipe("grpo", f"paper-{size}", GRPORecipe)
    assert (r.num_generations, r.temperature, r.top_p, r.lr, r.beta, r.clip_low, r.clip_high, r.dual_clip, r.kl_clamp, r.adv_eps) == \
           (10, 0.7, 0.99, 1e-6, 0.01, 0.2, 0.3, 3.0, 10.0, 1e-6)
    assert (r.prompts_per_rollout, r.prompts_per_update, r.episodes, r.weight_decay, r.max_grad_norm) == (512, 128, 2.0, 1e-2, 1.0)
    assert (r.max_prompt_length, r.max_completion_length, r.min_pixels, r.max_pixels) == (2048, 2048, 262144, 1204224)
    assert not r.freeze_vision and r.rl_system == "" and r.reward == "accuracy" and r.model.startswith("checkpoints/sft-paper")
    assert batch_plan(r)["updates_per_rollout"] == 4
    # the authors' config.yaml: micro_batch_size_per_device_for_update 4 on 8 GPUs -> 40 accumulation steps (token-mean per micro-batch)
    plan = batch_plan(r)
    assert (r.micro_batch, r.num_gpus, plan["gradient_accumulation_steps"], plan["steps_per_generation"]) == (4, 8, 40, 160)
    assert r.decay_all_params


@pytest.mark.parametrize("size", ["3b", "7b"])
def test_paper_sft_presets_hand_grpo_its_pixels(size):
    s, g = load_recipe("sft", f"paper-{size}"), load_recipe("grpo", f"paper-{size}", GRPORecipe)
    assert s.max_length == 0                      # ms-swift's default: the model's maximum
    assert (s.save_min_pixels, s.save_max_pixels) == (g.min_pixels, g.max_pixels) == (262144, 1204224)
    assert s.output_dir + "/final" == g.model


def test_grpo_decays_every_parameter(tiny_model_dir, tmp_path):
    "EasyR1's AdamW has one group with weight decay on every parameter; HF's default exempts biases and norms."
    from coldstart_nb.grpo import PaperGRPOTrainer, grpo_config, reward_functions, rl_dataset
    from coldstart_nb.models import load_model, load_processor
    from coldstart_nb.embedded import ensure_embedded
    ensure_embedded(progress=False)
    groups = {}
    for decay_all in (True, False):
        r = load_recipe("grpo", "tiny", GRPORecipe, output_dir=str(tmp_path), decay_all_params=decay_all)
        model = load_model(tiny_model_dir, device="cpu")
        t = PaperGRPOTrainer(model=model, reward_funcs=reward_functions(r), args=grpo_config(r, tmp_path),
                             train_dataset=rl_dataset(r.train_data, limit=8), processing_class=load_processor(tiny_model_dir), recipe=r)
        opt = t.create_optimizer()
        decayed = sum(len(g["params"]) for g in opt.param_groups if g["weight_decay"] == r.weight_decay)
        groups[decay_all] = (decayed, sum(1 for p in model.parameters() if p.requires_grad))
    assert groups[True][0] == groups[True][1]        # every parameter decays
    assert groups[False][0] < groups[False][1]       # HF default: biases and norms do not


def test_grpo_preflight_counts_what_grpo_adds(tiny_model_dir, tmp_path):
    "Defect 8: a run whose GRPO peak (logits, pixel buffers, vLLM share) does not fit stops before training."
    from coldstart_nb.grpo import grpo_memory, train_grpo
    from coldstart_nb.embedded import ensure_embedded
    from coldstart_nb.train import PreflightError
    ensure_embedded(progress=False)
    r = load_recipe("grpo", "tiny", GRPORecipe, model=str(tiny_model_dir), output_dir=str(tmp_path), gpu_memory_gb=0.05)
    m = grpo_memory(r, 10**6, 10**6, 64, 2, 151936)
    assert m["pixel_buffer"] > 0 and m["logits"] > 0 and m["vllm"] == 0 and m["peak"] == max(m["generation_peak"], m["training_peak"])
    with_vllm = grpo_memory(GRPORecipe(**{**r.to_dict(), "use_vllm": True, "vllm_sleep": False}), 10**6, 10**6, 64, 2, 151936, gpu_gb=80)
    assert with_vllm["vllm"] == round(0.35 * 80, 2) and with_vllm["training_peak"] > m["training_peak"] + 27
    with pytest.raises(PreflightError, match="exceeds gpu_memory_gb"):
        train_grpo(r)


def test_gpu_extra_is_pinned_to_a_consistent_stack():
    "Defect 10: the `gpu` extra resolves inside TRL's supported vLLM range and the core pins (checked with pip --dry-run: 197 packages)."
    import configparser
    import inspect
    import re
    from packaging.requirements import Requirement
    from trl import import_utils
    from coldstart_nb.doctor import diagnose
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "settings.ini")
    core = {r.name: r for r in map(Requirement, cfg["DEFAULT"]["requirements"].split())}
    gpu = {r.name: r for r in map(Requirement, cfg["DEFAULT"]["gpu_requirements"].split())}
    lo, hi = re.search(r'Version\("([\d.]+)"\) <= _vllm_base_version <= Version\("([\d.]+)"\)', inspect.getsource(import_utils)).groups()
    pinned = {name: str(r.specifier).split("==")[1] for name, r in gpu.items() if str(r.specifier).startswith("==")}
    assert {"vllm", "torch", "trl", "deepspeed"} <= set(pinned), gpu
    from packaging.version import Version
    assert Version(lo) <= Version(pinned["vllm"]) <= Version(hi)
    assert core["torch"].specifier.contains(pinned["torch"]) and core["trl"].specifier.contains(pinned["trl"])
    tf = [v for v in ("5.17.0", "5.18.0", "5.19.0") if gpu["transformers"].specifier.contains(v)]
    assert tf == ["5.17.0"] and core["transformers"].specifier.contains("5.17.0")   # vLLM 0.31 needs transformers < 5.18
    h100 = [{"index": 0, "name": "H100", "memory_gib": 79.1, "capability": "9.0", "bf16": True}]
    warns = diagnose({**pinned, "transformers": "5.17.0", "accelerate": "1.15.0"}, h100)["warnings"]
    assert [w for w in warns if "6294" not in w] == [], warns
