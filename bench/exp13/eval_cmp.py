"Evaluate a checkpoint on validation (greedy + n sampled at T) and compare it, paired, with a reference's records (same items)."
import argparse
from common import *
from coldstart_nb.stats import compare
ap = argparse.ArgumentParser(); ap.add_argument("model"); ap.add_argument("label"); ap.add_argument("--ref", default="sft")
ap.add_argument("--per_family", type=int, default=75); ap.add_argument("--n", type=int, default=8); ap.add_argument("--T", type=float, default=0.7)
ap.add_argument("--noref", action="store_true"); ap.add_argument("--ref_sampled", default=None, help="reference sampled records file (default eval/<ref>-T<T>-n16.json)")
a = ap.parse_args()
be = backend(a.model); val = load_val(a.per_family); res = {"model": a.model, "label": a.label}
g, sg = run_eval(be, val, a.label); save(f"eval/{a.label}-greedy.json", g)
s, ss = run_eval(be, val, a.label, n=a.n, temperature=a.T); save(f"eval/{a.label}-T{a.T}-n{a.n}.json", s)
res["greedy"], res["sampled"], res["seconds"] = acc_table(g), acc_table(s), round(sg + ss, 1)
res["pass@k"] = passk_table(s, ks=(1, 2, 4, 8))
if a.noref: save(f"cmp/{a.label}.json", res); print(res, flush=True); raise SystemExit
ref_g = load(f"eval/{a.ref}-greedy.json"); ref_s = load(a.ref_sampled or f"eval/{a.ref}-T{a.T}-n16.json")
cg, cs = compare(g, ref_g), compare(s, ref_s)
res["vs_ref"] = {"ref": a.ref, "greedy": cg, "sampled": cs}
save(f"cmp/{a.label}.json", res)
o = lambda c: f"{c['overall']['acc_a']} vs {c['overall']['acc_b']}: diff {c['overall']['diff']} [{c['overall']['lo']}, {c['overall']['hi']}] McNemar p={c['overall']['p']:.3g}"
print(f"{a.label}: greedy {res['greedy']}\n  sampled T={a.T} n={a.n} {res['sampled']}\n  vs {a.ref} greedy: {o(cg)}\n  vs {a.ref} sampled: {o(cs)}\n  per family sampled diff: " +
      ", ".join(f"{b}: {v['diff']} [{v['lo']}, {v['hi']}]" for b, v in cs.items() if b != "overall") + f"\n  pass@k {res['pass@k']['overall']}  ({res['seconds']}s)", flush=True)
