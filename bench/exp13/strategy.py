"Share and accuracy of row-by-row counting in saved eval records (exp/out/eval/<label>-*.json)."
import sys, json, collections
from common import OUT
for name in sys.argv[1:]:
    recs = json.loads((OUT / "eval" / name).read_text())
    t = collections.defaultdict(lambda: [0, 0])
    for r in recs:
        k = "rows" if "row by row" in (r.get("response") or "") else "whole"
        for key in (("all", k), (r["benchmark"], k)): t[key][0] += 1; t[key][1] += bool(r["correct"])
    n = sum(v[0] for k, v in t.items() if k[0] == "all")
    print(name, " ".join(f"{k[0]}/{k[1]}: share {100*v[0]/sum(t[(k[0],s)][0] for s in ('rows','whole')):.1f}% acc {100*v[1]/max(1,v[0]):.1f}" for k, v in sorted(t.items()) if k[0] == "all"))
