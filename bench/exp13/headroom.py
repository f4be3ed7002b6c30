"Headroom of a checkpoint on validation: greedy, sampled pass@k (n=16) at T=0.7/1.0, and zero-variance groups on RL training prompts."
import sys, argparse
from common import *
ap = argparse.ArgumentParser(); ap.add_argument("model"); ap.add_argument("label")
ap.add_argument("--per_family", type=int, default=75); ap.add_argument("--n", type=int, default=16)
ap.add_argument("--temps", default="0.7,1.0"); ap.add_argument("--train_prompts", type=int, default=32)
ap.add_argument("--train_temps", default="0.7,1.0")
a = ap.parse_args()
from coldstart_nb.synth import load_split
from coldstart_nb.grading import accuracy_reward
from coldstart_nb.grpo import zero_variance_groups
be = backend(a.model); val = load_val(a.per_family); res = {"model": a.model, "val_items": len(val)}
recs, sec = run_eval(be, val, a.label); save(f"eval/{a.label}-greedy.json", recs)
res["greedy"] = acc_table(recs); res["greedy_seconds"] = round(sec, 1); print("greedy", res["greedy"], f"{sec:.0f}s", flush=True)
for T in [float(t) for t in a.temps.split(",") if t]:
    recs, sec = run_eval(be, val, a.label, n=a.n, temperature=T); save(f"eval/{a.label}-T{T}-n{a.n}.json", recs)
    res[f"T{T}"] = {"pass@k": passk_table(recs), "seconds": round(sec, 1)}; print(f"T={T}", res[f"T{T}"], flush=True)
# RL training prompts (train split), 8 samples each, the RL prompt (no system) and the eval prompt (SFT system prompt)
tr = per_family(list(load_split(ROOT / "data/synth/default", "train")), a.train_prompts)
import torch
for T in [float(t) for t in a.train_temps.split(",") if t]:
    for sysname, system in (("rl-prompt", ""), ("eval-prompt", None)):
        if sysname == "eval-prompt" and T != 0.7: continue
        from coldstart_nb.evaluate import evaluate
        from coldstart_nb.generate import GenConfig
        from coldstart_nb.prompts import PromptConfig
        pc = PromptConfig(eval_system=system) if system is not None else PromptConfig()
        r = evaluate(be, tr, a.label, GenConfig(n=8, temperature=T, top_p=0.99, max_new_tokens=96, batch_size=64, seed=1), prompt_cfg=pc, progress=False, n_boot=10)
        resp = [x["response"] for x in r["records"]]; byid = {s.id: s for s in tr}
        smp = [byid[x["id"]] for x in r["records"]]
        rew = torch.tensor(accuracy_reward(resp, [s.answer for s in smp], [list(s.choices) for s in smp], [s.answer_type for s in smp], mode="paper"))
        zv = zero_variance_groups(rew, 8).float()
        fam = [s.benchmark for s in smp][::8]
        res[f"train_T{T}_{sysname}"] = {"mean_reward": round(rew.mean().item(), 4), "frac_zero_variance": round(zv.mean().item(), 3),
            "frac_all_wrong": round((rew.view(-1, 8).sum(1) == 0).float().mean().item(), 3), "frac_all_right": round((rew.view(-1, 8).sum(1) == 8).float().mean().item(), 3),
            "per_family_reward": {f: round(rew.view(-1, 8)[[i for i, g in enumerate(fam) if g == f]].mean().item(), 3) for f in sorted(set(fam))},
            "per_family_zero_var": {f: round(zv[[i for i, g in enumerate(fam) if g == f]].mean().item(), 3) for f in sorted(set(fam))}}
        print(f"train T={T} {sysname}", res[f"train_T{T}_{sysname}"], flush=True)
save(f"headroom-{a.label}.json", res); print(json.dumps(res, indent=1))
