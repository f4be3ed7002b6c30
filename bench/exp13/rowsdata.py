"SFT data whose counting steps go row by row ('a + b + c = N'), from the image's pixels, for a fraction p of rows (seeded by id)."
import re, sys, random
import numpy as np
from datasets import load_from_disk
from coldstart_nb.core import stable_hash
src, dst, p = sys.argv[1], sys.argv[2], float(sys.argv[3])
POS = {1: {"the grid": 0}, 2: {"the left grid": 0, "the right grid": 1}, 3: {"the left grid": 0, "the middle grid": 1, "the right grid": 2}}
def rows(img, panel):
    a = np.asarray(img.convert("RGB"))[:84, panel * 84:(panel + 1) * 84]
    dark = (a <= 150).all(-1)
    occ = [[dark[r*28:(r+1)*28, c*28:(c+1)*28].sum() > 20 for c in range(3)] for r in range(3)]
    return [sum(r) for r in occ]
bad = [0]
def f(r):
    if random.Random(stable_hash("rows", r["id"])).random() >= p: return r
    img = r["images"][0]; n = img.size[0] // 84
    t = r["completion"][0]["content"][0]["text"]
    def sub(m):
        rc = rows(img, POS[n][m.group(1)])
        if sum(rc) != int(m.group(2)): bad[0] += 1; return m.group(0)
        return f"Count the shapes in {m.group(1)} row by row: {rc[0]} + {rc[1]} + {rc[2]} = {sum(rc)}."
    t2 = re.sub(r"Count the shapes in (the (?:left |middle |right )?grid): there are (\d+)\.", sub, t)
    r["completion"] = [{"role": "assistant", "content": [{"type": "text", "text": t2}]}]
    return r
d = load_from_disk(src); m = d.map(f, load_from_cache_file=False); m.save_to_disk(dst)
print(sum("row by row" in x[0]["content"][0]["text"] for x in m["completion"]), "row-wise of", len(m), "mismatched counts", bad[0])
print(m[1]["completion"][0]["content"][0]["text"])
