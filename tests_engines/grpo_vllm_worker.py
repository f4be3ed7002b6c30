"""Started by tests_engines/test_grpo_vllm.py: GRPO on the tiny model with colocated vLLM rollouts (TRL's
`VLLMGeneration`, vLLM's CPU build) for a few steps with images, through the library's `train_grpo`.
Writes what it saw: every completion's token ids, the losses, and digests of the weights before and after. The weight
sync on CPU is the test-lane shim of `cpu_vllm_sync.py` (its docstring says what it replaces)."""
import hashlib
import json
import sys
from pathlib import Path

import torch


def digest(model) -> str:
    h = hashlib.sha256()
    for n, p in sorted(model.named_parameters()):
        h.update(n.encode())
        h.update(p.detach().float().cpu().numpy().tobytes())
    return h.hexdigest()


def main(model: str, out: Path, steps: int, suppress: bool = True):
    from trl.generation import vllm_generation
    from coldstart_nb.generate import vision_token_ids
    from coldstart_nb.grpo import GRPORecipe, train_grpo
    from coldstart_nb.models import load_model
    from coldstart_nb.recipes import load_recipe
    import coldstart_nb.grpo
    import cpu_vllm_sync   # the CPU-only test-lane shim (its docstring); the lane's venv loads it already when asked
    if not torch.cuda.is_available(): vllm_generation.VLLMGeneration.sync_weights = cpu_vllm_sync.cpu_sync_weights
    if not suppress: coldstart_nb.grpo.rollout_suppression = lambda proc, use_vllm: {}   # what TRL alone does: the defect
    seen = []
    def spy(completions, completion_ids, **kw):
        "A reward with variance inside groups that records the sampled ids."
        seen.extend(list(map(int, ids)) for ids in completion_ids)
        return [float(hashlib.sha256(json.dumps(c, sort_keys=True).encode()).digest()[0] % 2) for c in completions]
    r = load_recipe("grpo", "tiny", GRPORecipe, model=model, output_dir=str(out / "grpo"), max_steps=steps, save_steps=1000,
                    use_vllm=True, vllm_gpu_memory_utilization=0.05, lr=1e-3, seed=3)
    before = digest(load_model(model, device="cpu"))
    t, _ = train_grpo(r, reward_funcs=[spy])
    vis = vision_token_ids(t.processing_class.tokenizer)
    losses = [h["loss"] for h in t.state.log_history if "loss" in h]
    info = {"steps": t.state.global_step, "completions": len(seen), "vision_tokens_sampled": sum(i in vis for ids in seen for i in ids),
            "losses": losses, "syncs": len(cpu_vllm_sync.SYNCS), "before": before, "after": digest(t.model), "vllm": t.use_vllm,
            "mode": t.vllm_mode,
            "generation_kwargs": {k: {str(a): b for a, b in v.items()} if isinstance(v, dict) else v
                                  for k, v in (t.args.generation_kwargs or {}).items()}}
    (out / "grpo_vllm.json").write_text(json.dumps(info, indent=1))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), "--no-suppression" not in sys.argv)
