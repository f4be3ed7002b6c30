"Validation split disjoint from train and test: the same generator under the split name 'val' (own RNG streams), checked for overlap."
import sys, hashlib
from common import *
from coldstart_nb.synth import make_split, save_split, load_split
from coldstart_nb.generate import image_digest
n = int(sys.argv[1]) if len(sys.argv) > 1 else 120
val = make_split("val", n, seed=0, progress=False)
def keys(ss): return {(s.question, tuple(s.choices), image_digest(s.images[0])) for s in ss}
d = ROOT / "data/synth/default"
tr, te = load_split(d, "train"), load_split(d, "test")
kv = keys(val); over_tr, over_te = len(kv & keys(tr)), len(kv & keys(te))
img = lambda ss: {image_digest(s.images[0]) for s in ss}
print(f"val {len(val)} items; question+choices+image overlap with train {over_tr}, test {over_te}; image overlap train {len(img(val) & img(tr))}, test {len(img(val) & img(te))}")
assert over_tr == 0 and over_te == 0
save_split(val, VAL_DIR, "val")
from collections import Counter; print(Counter(s.benchmark for s in val))
