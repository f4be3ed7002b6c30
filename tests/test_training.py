"""Training on CPU with real TRL: GRPO from a briefly SFT-trained model raises its reward with a non-zero KL;
images reach the vision tower in rollouts and in the loss; LoRA runs for both trainers; dynamic sampling
leaves no zero-variance group when it can refill; both trainers resume after a kill."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import datasets
import pytest
import torch

from coldstart_nb.core import project_path
from coldstart_nb.grpo import GRPORecipe, RecordingReward, train_grpo
from coldstart_nb.models import build_tiny_model, load_model
from coldstart_nb.embedded import ensure_embedded, tokenizer_texts
from coldstart_nb.prompts import PromptConfig, SFT_SYSTEM_PROMPT, rl_example, sft_example
from coldstart_nb.sft import train_sft
from coldstart_nb.train import part_of
from coldstart_nb.recipes import load_recipe
from coldstart_nb.synth import make_split, solve


def count_tasks(split, n):
    return [s for s in make_split(split, n, progress=False) if s.benchmark == "synth-vista" and s.metadata["task"] == "count"]


def rl_ds(samples):
    rows = [rl_example(s, PromptConfig(rl_system=SFT_SYSTEM_PROMPT)) for s in samples]
    for r in rows:
        r.pop("id")
    return datasets.Dataset.from_list(rows)


@pytest.fixture(scope="module")
def briefly_trained(tmp_path_factory):
    """The 'small' preset SFT-trained for 300 steps on counting: about 2/3 greedy and 2/5 sampled accuracy."""
    d = tmp_path_factory.mktemp("brief")
    train = count_tasks("train", 600)
    build_tiny_model(tokenizer_texts(train, []), "small", seed=0, out_dir=d / "init")
    ds = datasets.Dataset.from_list([sft_example(s, solve(s)) for s in train])
    rec = load_recipe("sft", "tiny", model=str(d / "init"), output_dir=str(d / "sft"), max_steps=300, lr=2e-3, per_device_batch=16,
                      freeze_vision=False, eval_fraction=0.0, save_steps=10000, resume=False, logging_steps=50)
    train_sft(rec, dataset=ds, check=False)
    return d / "sft" / "final"


def test_grpo_raises_reward_with_nonzero_kl(briefly_trained, tmp_path):
    ds = rl_ds(count_tasks("train", 600)[:16])
    rec = load_recipe("grpo", "tiny", GRPORecipe, model=str(briefly_trained), output_dir=str(tmp_path), max_steps=36, lr=3e-4, temperature=1.0,
                      num_generations=8, prompts_per_rollout=8, prompts_per_update=8, micro_batch=32, max_completion_length=40,
                      save_steps=10000, resume=False, beta=0.01, seed=0)
    trainer, _ = train_grpo(rec, dataset=ds, check=False)
    rw = [h["reward"] for h in trainer.state.log_history if "reward" in h]
    kl = [h["kl"] for h in trainer.state.log_history if "kl" in h]
    q = len(rw) // 4
    first, last = sum(rw[:q]) / q, sum(rw[-q:]) / q
    print(f"reward first quarter {first:.3f}, last quarter {last:.3f}; kl {kl[-1]:.4f}")
    assert last > first + 0.05, (first, last, rw)
    assert kl[-1] > 0


def coin_reward(completions, **kw):
    "A reward with variance inside every group (random weights never answer right): a coin per completion text."
    return [float(hash(json.dumps(c, sort_keys=True)) % 2) for c in completions]


def _hooked_run(tmp_path, reward_funcs=None, **over):
    ensure_embedded()
    model = load_model(project_path("models/tiny-init"), device="cpu")
    calls = {"no_grad": 0, "grad": 0}
    model.model.visual.register_forward_hook(lambda m, i, o: calls.__setitem__("grad" if torch.is_grad_enabled() else "no_grad",
                                                                               calls["grad" if torch.is_grad_enabled() else "no_grad"] + 1))
    rec = load_recipe("grpo", "tiny", GRPORecipe, output_dir=str(tmp_path), max_steps=2, save_steps=10000, resume=False, **over)
    trainer, _ = train_grpo(rec, model=model, reward_funcs=reward_funcs)
    return trainer, calls


def test_images_reach_vision_tower_in_rollouts_and_loss(tmp_path):
    _, calls = _hooked_run(tmp_path)
    assert calls["no_grad"] > 0, "generation never ran the vision tower"
    assert calls["grad"] > 0, "the loss forward never ran the vision tower"


def _lora_b_nonzero(adapter_dir):
    from safetensors.torch import load_file
    w = load_file(str(adapter_dir / "adapter_model.safetensors"))
    return [k for k, v in w.items() if "lora_B" in k and v.abs().sum() > 0]


def test_grpo_lora(tmp_path):
    trainer, calls = _hooked_run(tmp_path, reward_funcs=[RecordingReward(coin_reward, "accuracy")], lora=True, lora_r=4, lora_alpha=8, lr=1e-2, temperature=1.0)
    assert _lora_b_nonzero(tmp_path / "adapter"), "GRPO did not train the LoRA adapters"
    assert (tmp_path / "final" / "config.json").exists() and calls["grad"] > 0


def test_sft_lora_trains_adapters_only(tmp_path):
    ensure_embedded()
    rec = load_recipe("sft", "tiny", output_dir=str(tmp_path), max_steps=4, lora=True, lora_r=4, lora_alpha=8, eval_fraction=0.0, resume=False)
    base = load_model(project_path(rec.model), device="cpu").state_dict()
    train_sft(rec, model=load_model(project_path(rec.model), device="cpu"))
    assert _lora_b_nonzero(tmp_path / "adapter")
    final = load_model(tmp_path / "final", device="cpu").state_dict()
    changed = {k for k in base if not torch.equal(base[k], final[k])}
    assert changed and all(k.endswith("proj.weight") and part_of(k) == "llm" or part_of(k) == "merger" for k in changed), sorted(changed)[:5]
    assert not any(part_of(k) == "vision" for k in changed)


def test_dynamic_sampling_refills_zero_variance_groups(tmp_path):
    """A scripted reward: prompts with an even answer always score 1 (zero variance); others score by a coin per
    completion. With refills available, no kept group may have zero variance."""
    ensure_embedded()
    samples = [s for s in make_split("train", 40, progress=False) if s.answer_type == "integer"][:48]
    ds = rl_ds(samples)

    def scripted(completions, answer, **kw):
        out = []
        for c, a in zip(completions, answer):
            text = c[-1]["content"] if isinstance(c, list) else c
            text = text if isinstance(text, str) else json.dumps(text)
            out.append(1.0 if int(a) % 2 == 0 else float(hash(text + a) % 2))
        return out

    rec = load_recipe("grpo", "tiny", GRPORecipe, output_dir=str(tmp_path), max_steps=3, save_steps=10000, resume=False,
                          dynamic_sampling=True, max_refills=4, temperature=1.0)
    trainer, _ = train_grpo(rec, dataset=ds, reward_funcs=[RecordingReward(scripted, "accuracy")])
    before = [h["frac_zero_variance_groups"] for h in trainer.state.log_history if "frac_zero_variance_groups" in h]
    after = [h["frac_zero_variance_after_refill"] for h in trainer.state.log_history if "frac_zero_variance_after_refill" in h]
    assert before and max(before) > 0, "the scripted reward should create zero-variance groups"
    assert after and max(after) == 0.0, after


RESUME = """
import sys, time, json
from transformers import TrainerCallback
from coldstart_nb.core import project_path
from coldstart_nb.embedded import ensure_embedded
stage, out, slow = sys.argv[1], sys.argv[2], float(sys.argv[3])
ensure_embedded()
class Slow(TrainerCallback):
    def on_step_end(self, args, state, control, **kw): time.sleep(slow)
if stage == "sft":
    from coldstart_nb.sft import train_sft
    from coldstart_nb.recipes import load_recipe
    rec = load_recipe("sft", "tiny", output_dir=out, max_steps=6, save_steps=2, eval_fraction=0.0, resume=True)
    trainer, _ = train_sft(rec, callbacks=[Slow()], check=False)
else:
    from coldstart_nb.grpo import GRPORecipe, train_grpo
    from coldstart_nb.recipes import load_recipe
    rec = load_recipe("grpo", "tiny", GRPORecipe, output_dir=out, max_steps=6, save_steps=2, resume=True)
    trainer, _ = train_grpo(rec, callbacks=[Slow()], check=False)
json.dump({"step": trainer.state.global_step, "log": [h.get("step") for h in trainer.state.log_history]}, open(out + "/done.json", "w"))
"""


def _run(stage, out, slow):
    return subprocess.Popen([sys.executable, "-c", RESUME, stage, str(out), str(slow)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("stage", ["sft", "grpo"])
def test_kill_and_resume(stage, tmp_path):
    full, res = tmp_path / "full", tmp_path / "resumed"
    p = _run(stage, full, 0); _, err = p.communicate(timeout=600); assert p.returncode == 0, err[-3000:]
    p = _run(stage, res, 1.5)
    deadline = time.time() + 300
    while time.time() < deadline and not (res / "checkpoint-4" / "trainer_state.json").exists():
        time.sleep(0.05)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    assert (res / "checkpoint-2").exists() and not (res / "done.json").exists()
    p = _run(stage, res, 0); _, err = p.communicate(timeout=600); assert p.returncode == 0, err[-3000:]
    assert json.load(open(res / "done.json"))["step"] == 6
    a = load_model(full / "final", device="cpu").state_dict(); b = load_model(res / "final", device="cpu").state_dict()
    worst = max((a[k] - b[k]).abs().max().item() for k in a)
    assert worst < 1e-5, f"resumed weights differ from the uninterrupted run by {worst}"
