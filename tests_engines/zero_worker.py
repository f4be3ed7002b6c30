"""Started by tests_engines/test_zero.py under `accelerate launch` with a ZeRO accelerate config on 2 CPU processes (gloo):
SFT then GRPO on the tiny model through the library's own `train_sft`/`train_grpo`, with the recipe naming the DeepSpeed
config as the paper presets do. Every rank writes what it saw: the engine (`check_engine`), ZeRO's fp32 master copy,
steps run, and a digest of its weights gathered from every rank's partitions."""
import hashlib
import json
import os
import sys
from pathlib import Path

import deepspeed
import torch
from transformers import TrainerCallback

from coldstart_nb.grpo import GRPORecipe, train_grpo
from coldstart_nb.recipes import load_recipe
from coldstart_nb.sft import train_sft
from coldstart_nb.train import check_engine


def gathered(model) -> dict:
    "Every parameter whole (ZeRO-3 partitions gathered from all ranks), on CPU in fp32."
    params = list(model.named_parameters())
    if not hasattr(params[0][1], "ds_id"): return {n: p.detach().float().cpu().clone() for n, p in params}   # not partitioned
    with deepspeed.zero.GatheredParameters([p for _, p in params], modifier_rank=None):
        return {n: p.detach().float().cpu().clone() for n, p in params}


def digest(weights: dict) -> str:
    h = hashlib.sha256()
    for n in sorted(weights):
        h.update(n.encode())
        h.update(weights[n].numpy().tobytes())
    return h.hexdigest()


def fp32_master(trainer) -> str | None:
    "The dtype of DeepSpeed's master partitions (ZeRO-2: single_partition_of_fp32_groups, ZeRO-3: fp32_partitioned_groups_flat)."
    opt = getattr(trainer.model_wrapped, "optimizer", None)
    groups = getattr(opt, "single_partition_of_fp32_groups", None) or getattr(opt, "fp32_partitioned_groups_flat", None)
    return str(groups[0].dtype) if groups else None


class Interrupted(Exception):
    "Raised on every rank right after a checkpoint: the run dies as a killed one does, its checkpoint complete."


class Steps(TrainerCallback):
    def __init__(self, stop_at: int = 0):
        self.steps, self.start, self.stop_at = 0, None, stop_at

    def on_save(self, args, state, control, **kw):
        if self.stop_at and state.global_step == self.stop_at: raise Interrupted(state.global_step)

    def on_train_begin(self, args, state, control, **kw):
        self.start = state.global_step

    def on_step_end(self, args, state, control, **kw):
        self.steps += 1


def coin(completions, **kw):
    "A reward with variance inside groups whatever the weights (same on every process)."
    return [float(hashlib.sha256(json.dumps(c, sort_keys=True).encode()).digest()[0] % 2) for c in completions]


def report(t, cb, deepspeed_cfg: str, save_to: Path) -> dict:
    w = gathered(t.model)   # a collective: every rank takes part
    if t.accelerator.is_main_process: torch.save(w, save_to)
    plugin = t.accelerator.state.deepspeed_plugin
    return {"engine": check_engine(t, deepspeed_cfg), "zero_stage": plugin.zero_stage if plugin else 0,
            "losses": [h["loss"] for h in t.state.log_history if "loss" in h],
            "master_dtype": fp32_master(t), "global_step": t.state.global_step, "start_step": cb.start, "steps_run": cb.steps,
            "digest": digest(w), "local_elements": sum(p.numel() for p in t.model.parameters()),
            "total_elements": sum(v.numel() for v in w.values())}


def main(out: Path, zero: int, steps: int, stop: str):
    "SFT then GRPO, `steps` each; `stop` ('sft', 'grpo' or 'none') dies right after that stage's step-2 checkpoint."
    rank = int(os.environ["RANK"])
    cfg = f"reports/configs/deepspeed/zero{zero}.json" if zero else ""   # 0: plain DDP (`--multi_gpu`), the reference
    path = out / f"rank{rank}.json"
    info = json.loads(path.read_text()) if path.exists() else {"rank": rank, "world_size": int(os.environ["WORLD_SIZE"])}
    cb = Steps(2 if stop == "sft" else 0)
    rec = load_recipe("sft", "tiny", output_dir=str(out / "sft"), max_steps=steps, save_steps=2, eval_fraction=0.0, num_gpus=2,
                      logging_steps=1, deepspeed=cfg)
    t, _ = train_sft(rec, callbacks=[cb])
    if cb.start is not None:   # trained in this launch (a finished stage is skipped and keeps its report)
        info["sft"] = report(t, cb, cfg, out / "sft_weights.pt")
        path.write_text(json.dumps(info, indent=1))
    g = load_recipe("grpo", "tiny", GRPORecipe, model=str(out / "sft" / "checkpoint-2"), output_dir=str(out / "grpo"),
                    max_steps=steps, save_steps=2, num_gpus=2, lr=1e-3, seed=1, deepspeed=cfg)
    cb = Steps(2 if stop == "grpo" else 0)
    t, _ = train_grpo(g, reward_funcs=[coin], callbacks=[cb])
    info["grpo"] = report(t, cb, cfg, out / "grpo_weights.pt")
    path.write_text(json.dumps(info, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
