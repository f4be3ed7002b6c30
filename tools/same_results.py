"""Compare two runs' results files: are the numbers the same, and where do they differ?

Usage: python tools/same_results.py OTHER_RESULTS_DIR [--ours reports/results] [--run embedded] [--other-run NAME]

Reads `<stage>_<run>*.json` in both folders (`--other-run`: the other folder's run name, e.g. before a rename) and compares their `results`, leaving out what is expected to
differ between runs: wall times (keys ending in `seconds`, `_s`, `step_time`, `runtime`, `per_second`; the trainers'
throughput and MFU under `perf`), absolute
paths and the run metadata. Prints one line per file (identical, or the first differing values) and exits 1 when
any number differs, so `make reproduce` on another machine can be checked against the committed run.
"""
import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMING = ("seconds", "_s", "step_time", "runtime", "per_second", "time_utc")
MEASURED = ("perf", "timing/")   # throughput, MFU and the time split the trainers log (coldstart_nb.track)


def _timing(key: str) -> bool:
    return any(key.endswith(t) for t in TIMING) or key.startswith(MEASURED)


def flatten(obj, prefix: str = "") -> dict:
    "Leaf values by dotted path, without timings and absolute paths."
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            if _timing(str(k)): continue
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(obj, list):
        for i, v in enumerate(obj): out.update(flatten(v, f"{prefix}[{i}]"))
    elif not (isinstance(obj, str) and obj.startswith("/")):
        out[prefix] = obj
    return out


def compare(a: Path, b: Path) -> list[str]:
    "Paths whose values differ between two results files (present in one only counts as differing)."
    fa, fb = flatten(json.loads(a.read_text())["results"]), flatten(json.loads(b.read_text())["results"])
    return [f"{k}: {fa.get(k, '<absent>')!r} vs {fb.get(k, '<absent>')!r}" for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("other"); ap.add_argument("--ours", default=str(ROOT / "reports" / "results"))
    ap.add_argument("--run", default="embedded")
    ap.add_argument("--other-run", default=None, help="the run's name in OTHER_RESULTS_DIR (default: --run)")
    a = ap.parse_args()
    ours, other = Path(a.ours), Path(a.other)
    files = sorted(p.name for p in ours.glob(f"*_{a.run}*.json") if not p.name.startswith("pipeline_"))
    if not files: raise SystemExit(f"no results files for run {a.run!r} in {ours}")
    bad = 0
    for name in files:
        twin = name.replace(f"_{a.run}", f"_{a.other_run}", 1) if a.other_run else name
        if not (other / twin).exists():
            print(f"{name}: missing in {other}")
            bad += 1
            continue
        diffs = compare(ours / name, other / twin)
        print(f"{name}: " + ("identical" if not diffs else f"{len(diffs)} values differ, e.g.\n    " + "\n    ".join(diffs[:5])))
        bad += bool(diffs)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
