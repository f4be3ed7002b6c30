"SFT data with a fraction of bare answers: each response replaced by its last line with probability p (seeded by id)."
import sys, random
from datasets import load_from_disk
from coldstart_nb.core import stable_hash
src, dst, p = sys.argv[1], sys.argv[2], float(sys.argv[3])
d = load_from_disk(src)
def f(r):
    if random.Random(stable_hash("direct", r["id"])).random() < p:
        t = r["completion"][0]["content"][0]["text"].split("\n")[-1]
        r["completion"] = [{"role": "assistant", "content": [{"type": "text", "text": t}]}]
    return r
m = d.map(f); m.save_to_disk(dst)
print(sum(not x[0]["content"][0]["text"].startswith("Step") for x in m["completion"]), "direct of", len(m))
