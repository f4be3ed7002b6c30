"Accuracy by response style (bare answer vs step by step) of a checkpoint on validation, sampled at T=0.7."
import sys, argparse, collections
from common import *
ap = argparse.ArgumentParser(); ap.add_argument("model"); ap.add_argument("label")
ap.add_argument("--per_family", type=int, default=75); ap.add_argument("--n", type=int, default=4)
a = ap.parse_args()
from coldstart_nb.evaluate import evaluate
from coldstart_nb.generate import GenConfig
be = backend(a.model); val = load_val(a.per_family)
r = evaluate(be, val, a.label, GenConfig(n=a.n, temperature=0.7, top_p=1.0, max_new_tokens=96, batch_size=64, seed=0), progress=False, n_boot=10)
tab = collections.defaultdict(lambda: [0, 0])
for x in r["records"]:
    st = "steps" if x["response"].lstrip().startswith("Step") else "direct"
    for k in ((x["benchmark"], st), ("all", st)): tab[k][0] += 1; tab[k][1] += bool(x["correct"])
for k in sorted(tab): print(k, "n", tab[k][0], "acc %.1f" % (100 * tab[k][1] / tab[k][0]))
