"""Wall time of `make ablation`, step by step, from the pipeline's own records (reports/results/pipeline_ablation*.json).

Usage: python bench/ablation.py [--preset ablation]

`coldstart-reproduce` writes the wall time of every step it ran to `pipeline_<preset>.json`; `make ablation` runs one preset per
CoT variant (`ablation-<variant>`: SFT, GRPO) and then the ablation's evaluation and tables (`ablation`: eval, paper). This sums
them into one table. A step that was skipped as finished records the seconds of the skip, so after a resumed run the records
hold the last run's times: bench/results/ablation.md keeps the times of the committed run, measured step by step.
"""
import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("distilled", "reflection", "caption", "self-critic")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default="ablation")
    a = ap.parse_args()
    res = ROOT/"reports"/"results"
    rows, total = [], 0.0
    for p in [f"{a.preset}-{v}" for v in VARIANTS] + [a.preset]:
        f = res/f"pipeline_{p}.json"
        if not f.exists():
            rows.append(f"| {p} | (not run) | |")
            continue
        d = json.loads(f.read_text())
        secs = d["results"]["stage_seconds"]
        total += sum(secs.values())
        cpu = d["meta"].get("cpu", {})
        rows.append(f"| {p} | " + ", ".join(f"{k} {v:.0f} s" for k, v in secs.items()) + f" | {cpu.get('threads')} |")
    md = ["# make ablation: wall time per step (bench/ablation.py)\n",
          "From the pipeline's records (`reports/results/pipeline_<preset>.json`), on the machine that made them.\n",
          "| preset | steps | threads |", "|---|---|---|", *rows, "", f"Total: {total:.0f} s ({total / 60:.1f} min)."]
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
