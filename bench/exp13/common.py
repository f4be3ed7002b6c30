"Shared helpers of the exp13 experiments (drive the library; write under exp/out/, git-ignored)."
import os, json, time
os.environ.setdefault("OMP_NUM_THREADS", "1"); os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1"); os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import torch
torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
from pathlib import Path
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "exp" / "out"; OUT.mkdir(parents=True, exist_ok=True)
VAL_DIR = ROOT / "data" / "synth" / "exp13-val"

def per_family(items, n):
    "The first n items of each family (like the eval run notebook's `per_family`)."
    if not n: return list(items)
    out, seen = [], {}
    for s in items:
        if seen.get(s.benchmark, 0) < n: out.append(s); seen[s.benchmark] = seen.get(s.benchmark, 0) + 1
    return out

def load_val(n_per_family=75):
    from coldstart_nb.synth import load_split
    return per_family(list(load_split(VAL_DIR, "val")), n_per_family)

def backend(path):
    from coldstart_nb.generate import HFBackend
    from coldstart_nb.models import load_model, load_processor
    return HFBackend(load_model(str(ROOT / path) if not Path(path).is_absolute() else path), load_processor(str(ROOT / path) if not Path(path).is_absolute() else path))

def run_eval(be, samples, label, n=1, temperature=0.0, max_new_tokens=96, batch_size=64, seed=0, system=None):
    "Records (id, benchmark, sample, correct, extracted) for `samples`; system=None: the eval prompt (SFT system prompt), '' = RL prompt."
    from coldstart_nb.evaluate import evaluate
    from coldstart_nb.generate import GenConfig
    from coldstart_nb.prompts import PromptConfig
    pc = PromptConfig() if system is None else PromptConfig(eval_system=system)
    gen = GenConfig(n=n, temperature=temperature, top_p=1.0, max_new_tokens=max_new_tokens, batch_size=batch_size, seed=seed)
    t = time.time()
    r = evaluate(be, samples, label, gen, store=None, prompt_cfg=pc, progress=False, n_boot=200)
    recs = [{k: x[k] for k in ("id", "sample", "benchmark", "correct", "extracted", "answer", "response")} for x in r["records"]]
    return recs, time.time() - t

def by_item(recs):
    d = {}
    for r in recs: d.setdefault((r["benchmark"], r["id"]), []).append(bool(r["correct"]))
    return d

def acc_table(recs):
    "Mean accuracy (%) overall and per family."
    d = by_item(recs); fams = sorted({k[0] for k in d})
    f = lambda ks: round(100 * sum(sum(d[k]) / len(d[k]) for k in ks) / len(ks), 2)
    return {"overall": f(list(d)), **{b: f([k for k in d if k[0] == b]) for b in fams}, "n_items": len(d)}

def passk_table(recs, ks=(1, 2, 4, 8, 16)):
    from coldstart_nb.stats import pass_at_k
    d = by_item(recs); out = {}
    for fam in ["overall"] + sorted({k[0] for k in d}):
        items = [v for k, v in d.items() if fam == "overall" or k[0] == fam]
        n = len(items[0])
        out[fam] = {k: round(100 * sum(pass_at_k(n, sum(v), k) for v in items) / len(items), 2) for k in ks if k <= n}
    return out

def save(name, obj):
    p = OUT / name; p.parent.mkdir(parents=True, exist_ok=True); p.write_text(json.dumps(obj, indent=1)); return p
def load(name): return json.loads((OUT / name).read_text())
