"""Started by tests/test_multiprocess.py under `accelerate launch --multi_gpu --num_processes 2` on CPU (gloo): SFT then GRPO
on the tiny model; every rank writes what it saw (batch settings, rollout sizes, steps run, a digest of its weights)."""
import hashlib
import json
import os
import sys
from pathlib import Path

from transformers import TrainerCallback

from coldstart_nb.grpo import GRPORecipe, RecordingReward, batch_plan, train_grpo
from coldstart_nb.sft import train_sft
from coldstart_nb.recipes import load_recipe


def digest(model) -> str:
    "A hash of every parameter (names and values), equal on two ranks only if their weights are identical."
    h = hashlib.sha256()
    for n, p in sorted(model.named_parameters()):
        h.update(n.encode())
        h.update(p.detach().float().cpu().numpy().tobytes())
    return h.hexdigest()


class Steps(TrainerCallback):
    "Counts the optimizer steps run in this process (a resumed run starts past the checkpoint's)."
    def __init__(self):
        self.steps, self.start = 0, None

    def on_train_begin(self, args, state, control, **kw):
        self.start = state.global_step

    def on_step_end(self, args, state, control, **kw):
        self.steps += 1


def coin(completions, **kw):
    "A reward with variance inside groups whatever the weights: a coin from a hash of the completion (same on every process)."
    return [float(hashlib.sha256(json.dumps(c, sort_keys=True).encode()).digest()[0] % 2) for c in completions]


def main(out: Path, sft_steps: int, grpo_steps: int):
    rank = int(os.environ["RANK"])
    info = {"rank": rank, "world_size": int(os.environ["WORLD_SIZE"])}
    cb = Steps()
    rec = load_recipe("sft", "tiny", output_dir=str(out / "sft"), max_steps=sft_steps, save_steps=2, eval_fraction=0.0, num_gpus=2,
                      logging_steps=1, save_min_pixels=3136, save_max_pixels=200704)
    t, _ = train_sft(rec, callbacks=[cb])
    info["sft"] = {"processes": t.accelerator.num_processes, "process_index": t.accelerator.process_index,
                   "per_device": t.args.per_device_train_batch_size, "accum": t.args.gradient_accumulation_steps,
                   "global_step": t.state.global_step, "start_step": cb.start, "steps_run": cb.steps, "digest": digest(t.model)}
    sizes = []
    reward = RecordingReward(lambda completions, **kw: sizes.append(len(completions)) or coin(completions), "accuracy")
    # GRPO starts from SFT's step-2 checkpoint, which the second (longer) launch leaves unchanged: a GRPO run may only be
    # continued from the same start model (issue 15: a changed start model is refused, not mixed into the checkpoints)
    g = load_recipe("grpo", "tiny", GRPORecipe, model=str(out / "sft" / "checkpoint-2"), output_dir=str(out / "grpo"), max_steps=grpo_steps,
                    save_steps=2, num_gpus=2, lr=1e-3, seed=1)
    cb = Steps()
    start = None
    if (out / "sft" / "checkpoint-2").exists() and not (out / "grpo").exists():
        from coldstart_nb.models import load_model
        start = digest(load_model(out / "sft" / "checkpoint-2", device="cpu"))
    t, _ = train_grpo(g, reward_funcs=[reward], callbacks=[cb])
    info["grpo"] = {"processes": t.accelerator.num_processes, "per_device": t.args.per_device_train_batch_size,
                    "accum": t.args.gradient_accumulation_steps, "steps_per_generation": t.args.steps_per_generation,
                    "plan": batch_plan(g), "rollout_sizes": sizes, "global_step": t.state.global_step, "start_step": cb.start,
                    "steps_run": cb.steps, "digest": digest(t.model), "start_digest": start}
    (out / f"rank{rank}.json").write_text(json.dumps(info, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
