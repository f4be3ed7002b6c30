"""How many held-out items (and samples per item) a paired comparison needs, estimated on a validation split before the test run.

Usage: python bench/power.py [--per-family 150] [--samples 4] [--delta 3] [--power 0.8]

Builds a validation split of the synthetic benchmark (`synth.make_split("val", ...)`: every problem drawn from its own seed,
ids `synth-<family>-val-*`; its overlap with the test split's images is counted and printed) in data/synth/embedded-val, and
evaluates the embedded default's base, SFT-only and SFT+RL models on it, greedy and sampled (T=0.7, `--samples` per item),
with the eval_embedded recipe's decoding. For two pairs (SFT+RL vs SFT-only: two models one training stage apart; SFT-only
vs base: two models that differ more) it splits the variance of one item's paired difference into the items' part and the
sampling noise (`stats.variance_parts`), and prints the items needed to detect `--delta` points with a two-sided test at
alpha 0.05 and `--power`, greedy and with k = 1..16 samples per item, and the power of the evaluation `make reproduce` ran
(300 items x 4 samples). Writes bench/results/power.md and bench/results/power.json. Predictions are stored under
reports/predictions/power-val/ (a re-run reuses them).
"""
import argparse
import json
import math
import sys
import time
from pathlib import Path
from statistics import NormalDist

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coldstart_nb.core import pin_cpu_numerics, project_path, resolve   # noqa: E402
from coldstart_nb.recipes import load_recipe   # noqa: E402
from coldstart_nb.stats import half_width, item_sd, items_needed, variance_parts   # noqa: E402

PAIRS = (("sft+rl", "sft-only"), ("sft-only", "base"))


def val_items(per_family: int, out: Path):
    "The validation split (built once), and how many of its images also occur in the test split."
    import hashlib
    from coldstart_nb.synth import load_split, make_split, save_split
    if not (out/"val.jsonl").exists(): save_split(make_split("val", per_family, seed=0, progress=False), out, "val")
    items = load_split(out, "val")
    h = lambda s: hashlib.sha256(b"".join(im.tobytes() for im in s.images) + s.question.encode()).hexdigest()
    test = {h(s) for s in load_split(project_path("data", "synth", "embedded"), "test")}
    return items, sum(h(s) in test for s in items)


def power_at(sd: float, n: int, delta: float, alpha: float = 0.05) -> float:
    "Power of the two-sided paired test over n items to detect delta (normal approximation)."
    nd = NormalDist()
    return nd.cdf(delta * math.sqrt(n) / sd - nd.inv_cdf(1 - alpha / 2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--per-family", type=int, default=100, help="validation problems per family, and items per family evaluated")
    ap.add_argument("--samples", type=int, default=4, help="samples per item in the sampled pilot")
    ap.add_argument("--delta", type=float, default=3.0, help="the paired difference to detect, in points")
    ap.add_argument("--power", type=float, default=0.8)
    a = ap.parse_args()
    pin_cpu_numerics()
    from coldstart_nb.evaluate import evaluate, first_per_benchmark
    from coldstart_nb.generate import HFBackend
    from coldstart_nb.models import load_model, load_processor
    t0 = time.time()
    items, overlap = val_items(a.per_family, project_path("data", "synth", "embedded-val"))
    r = load_recipe("eval", "embedded", limit=a.per_family, sampled_n=a.samples, sampled_limit=a.per_family)
    models = dict(r.model_list())
    outcomes = {}
    for label in sorted({m for p in PAIRS for m in p}):
        src = resolve(models[label])
        be = HFBackend(load_model(src), load_processor(src))
        for mode, (gen, subset) in r.modes(items).items():
            store = project_path("reports", "predictions", "power-val", f"{label.replace('+', '_')}-{mode}.jsonl", mkdir=True)
            ev = evaluate(be, subset, label, gen, store=store, grade_cfg=r.grade_config(), progress=False)
            per = {}
            for x in ev["records"]: per.setdefault((x["benchmark"], x["id"]), []).append(float(x["correct"]))
            outcomes[label, mode] = per
            print(f"{label}/{mode}: {len(per)} items, accuracy {100 * sum(map(sum, per.values())) / sum(map(len, per.values())):.2f}%")
    d = a.delta / 100
    rows, out = [], {"per_family": a.per_family, "items": len(first_per_benchmark(items, a.per_family)), "samples": a.samples,
                     "delta_points": a.delta, "power": a.power, "test_overlap": overlap, "pairs": {}}
    for A, B in PAIRS:
        for mode in ("greedy", "sampled"):
            keys = sorted(outcomes[A, mode])
            parts = variance_parts([outcomes[A, mode][k] for k in keys], [outcomes[B, mode][k] for k in keys])
            ks = [1] if mode == "greedy" else [1, 2, 4, 8, 16]
            need = {k: items_needed(item_sd(parts, k), d, power=a.power) for k in ks}
            now = {"items": 400, "k": 1} if mode == "greedy" else {"items": 300, "k": 4}   # what eval_embedded ran
            sd_now = item_sd(parts, now["k"])
            out["pairs"].setdefault(f"{A} vs {B}", {})[mode] = {
                "parts": {k: round(v, 5) if isinstance(v, float) else v for k, v in parts.items()},
                "items_needed": need, "make_reproduce": {**now, "half_width_points": round(100 * half_width(sd_now, now["items"]), 2),
                                                          "power": round(power_at(sd_now, now["items"], d), 3)}}
            hw, pw = 100 * half_width(sd_now, now["items"]), power_at(sd_now, now["items"], d)
            rows.append(f"| {A} vs {B} | {mode} | {100 * parts['diff']:+.2f} | {parts['discordant']:.3f} | {parts['between']:.4f} | "
                        f"{parts['within']:.4f} | " + ", ".join(f"k={k}: {n}" for k, n in need.items()) +
                        f" | {now['items']} x {now['k']}: +-{hw:.2f}, power {pw:.2f} |")
    out["seconds"] = round(time.time() - t0, 1)
    md = ["# Evaluation size from the validation split (bench/power.py)\n",
          f"Validation split: {out['items']} items ({a.per_family} per family, first of each family as the evaluation takes them; "
          f"{overlap} of {len(items)} validation items share image and question with a test item). Models: the embedded default's "
          f"checkpoints. Greedy, and sampled at T=0.7 with {a.samples} samples per item. Items needed: to detect a paired difference "
          f"of {a.delta:g} points, two-sided alpha 0.05, power {a.power:g} (normal approximation; items of one problem counted as "
          f"independent). `between`: variance of an item's true difference (more samples cannot remove it); `within`: per-sample "
          f"variance of both models (divided by k).\n",
          "| pair | mode | diff on val (points) | discordant (first sample) | between | within | items needed "
          "| make reproduce's design: 95% half-width (points), power |",
          "|---|---|---|---|---|---|---|---|", *rows, "", f"{out['seconds']} s on this machine."]
    res = ROOT/"bench"/"results"
    (res/"power.md").write_text("\n".join(md) + "\n")
    (res/"power.json").write_text(json.dumps(out, indent=1) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
