"""Started by tests_engines/test_vllm.py (vLLM spawns its engine process, so it runs as a script, not inside pytest).
On the tiny model in fp32: greedy token ids of `VLLMBackend` and `HFBackend` on the same synthetic items, and vision
special tokens in sampled completions with our logit bias and, to show the check can fail, without it."""
import json
import sys
from pathlib import Path


def trim(ids: list[int], stops: set[int]) -> list[int]:
    "Ids up to and including the first stop token (HF pads finished rows after it)."
    for i, t in enumerate(ids):
        if t in stops: return ids[:i + 1]
    return ids


def main(model: str, out: Path, n_items: int):
    from coldstart_nb.generate import GenConfig, HFBackend, VLLMBackend, requests_from_samples, vision_token_ids
    from coldstart_nb.models import load_model, load_processor
    from coldstart_nb.synth import make_split
    items = make_split("test", n_items // 4 + 1, progress=False)[:n_items]
    reqs = requests_from_samples(items)
    greedy = GenConfig(max_new_tokens=24)
    v = VLLMBackend(model)
    v_ids = [list(o.outputs[0].token_ids) for o in v.outputs(reqs, greedy, seed=0)]
    hf = HFBackend(load_model(model, device="cpu"), load_processor(model))
    stops = hf.eos
    h_ids = [trim(ids, stops) for ids in hf.generate_ids(reqs, greedy, seed=0)]
    vis = set(vision_token_ids(hf.processor.tokenizer))
    sampled = GenConfig(n=4, temperature=1.0, max_new_tokens=48)
    biased = [list(c.token_ids) for o in v.outputs(reqs, sampled, seed=1) for c in o.outputs]
    v.logit_bias = {}   # the same engine and seed without the bias: what sampling did before the fix
    unbiased = [list(c.token_ids) for o in v.outputs(reqs, sampled, seed=1) for c in o.outputs]
    count = lambda rows: sum(t in vis for ids in rows for t in ids)
    (out / "vllm.json").write_text(json.dumps({
        "settings": {k: v.settings[k] for k in ("max_model_len", "dtype", "enforce_eager", "gpu_memory_utilization")},
        "vllm_ids": v_ids, "hf_ids": h_ids, "sampled": len(biased), "vision_with_bias": count(biased),
        "vision_without_bias": count(unbiased), "rows_with_vision_without_bias": sum(any(t in vis for t in r) for r in unbiased)}))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))
