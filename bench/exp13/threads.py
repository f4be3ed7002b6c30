"""Does the thread count change results? (a) greedy predictions of one checkpoint on 100 val items; (b) one GRPO step's loss and weights.
Run: OMP_NUM_THREADS=k MKL_NUM_THREADS=k python threads.py {gen,grpo} <ckpt>; then python threads.py cmp."""
import sys
from common import *
k = int(os.environ["OMP_NUM_THREADS"]); what = sys.argv[1]
if what == "gen":
    be = backend(sys.argv[2]); val = load_val(25)
    from coldstart_nb.evaluate import evaluate
    from coldstart_nb.generate import GenConfig
    out = {}
    for mode, gen in (("greedy", GenConfig(max_new_tokens=96, batch_size=64)), ("sampled", GenConfig(n=4, temperature=0.7, max_new_tokens=96, batch_size=64, seed=0))):
        r = evaluate(be, val, "x", gen, progress=False, n_boot=10)
        out[mode] = [{"id": x["id"], "sample": x["sample"], "response": x["response"], "correct": x["correct"]} for x in r["records"]]
    # logits of one batch, to see the size of the numeric difference
    from coldstart_nb.generate import requests_from_samples
    reqs = requests_from_samples(val[:16], "eval"); p = be.processor
    texts = [p.apply_chat_template(r.messages, add_generation_prompt=True, tokenize=False) for r in reqs]
    p.tokenizer.padding_side = "left"
    b = p(text=texts, images=[im for r in reqs for im in r.images], return_tensors="pt", padding=True)
    with torch.no_grad(): lg = be.model(**b).logits[:, -1]
    torch.save(lg, OUT / f"threads/logits-{k}.pt")
    save(f"threads/gen-{k}.json", out); print("saved", k)
elif what == "grpo":
    import yaml
    from coldstart_nb.grpo import GRPORecipe, train_grpo
    d = yaml.safe_load(open(ROOT / "reports/configs/grpo_default.yaml")); d.pop("variant")
    d.update(model=sys.argv[2], output_dir=f"checkpoints/exp13-threads-{k}", max_steps=2, prompts_per_rollout=8, prompts_per_update=8, lr=1e-4, save_steps=100, resume=False)
    tr, _ = train_grpo(GRPORecipe.from_dict(d))
    save(f"threads/grpo-{k}.json", [x for x in tr.state.log_history]); print(tr.state.log_history)
else:
    from safetensors.torch import load_file
    a, b = load(f"threads/gen-1.json"), load(f"threads/gen-2.json")
    for mode in a:
        same = sum(x["response"] == y["response"] for x, y in zip(a[mode], b[mode])); n = len(a[mode])
        ca, cb = sum(x["correct"] for x in a[mode]), sum(x["correct"] for x in b[mode])
        print(f"{mode}: identical responses {same}/{n}; correct {ca} (1 thread) vs {cb} (2 threads)")
    la, lb = torch.load(OUT / "threads/logits-1.pt"), torch.load(OUT / "threads/logits-2.pt")
    print("last-token logits max |diff|:", (la - lb).abs().max().item(), "argmax equal:", bool((la.argmax(-1) == lb.argmax(-1)).all()))
    ga, gb = load("threads/grpo-1.json"), load("threads/grpo-2.json")
    for x, y in zip(ga, gb): print({k: (x.get(k), y.get(k)) for k in ("step", "loss", "reward", "grad_norm", "kl") if k in x})
    wa = load_file(ROOT / "checkpoints/exp13-threads-1/final/model.safetensors"); wb = load_file(ROOT / "checkpoints/exp13-threads-2/final/model.safetensors")
    diffs = {n: (wa[n] - wb[n]).abs().max().item() for n in wa}
    print("weights after the GRPO steps: max |diff|", max(diffs.values()), "; tensors identical:", sum(v == 0 for v in diffs.values()), "/", len(diffs))
