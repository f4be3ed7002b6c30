"""Grader throughput: ours vs math-verify directly vs mathruler directly, on the same 10,000 realistic pairs.

Usage: python bench/grading.py [--n 10000] [--seed 0] [--out bench/results/grading.md]

Pairs mimic what the pipeline grades: step-by-step responses ending in \\boxed{} (integers, option
letters, fractions/decimals, radicals/polynomials, yes/no), some right and some wrong, some answered
only in words ("The answer is (C)"). "Common case" = integer, letter and fraction items. Each grader
sees the same pairs in the same order, in one process, one item at a time (latency per item).
Each pair carries the truth (was the boxed/stated answer right?), so false accepts/rejects are counted.
"""
import argparse
import logging
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
logging.disable(logging.WARNING)


def make_pairs(n, seed):
    rng = random.Random(seed)
    pairs = []
    pre = "Step 1: Count the shapes in the left grid: there are {a}.\nStep 2: Count the shapes in the right grid: there are {b}.\nStep 3: Add them: {a} + {b} = {c}.\n"
    for i in range(n):
        k = rng.random(); right = rng.random() < 0.7
        a, b = rng.randint(1, 9), rng.randint(1, 9); body = pre.format(a=a, b=b, c=a + b)
        if k < 0.60:
            gold = str(a + b); pred = gold if right else str(a + b + rng.choice([-2, -1, 1, 2]))
            pairs.append(("int", body + f"The answer is \\boxed{{{pred}}}.", gold, None, None, right))
        elif k < 0.75:
            ch = [str(x) for x in (a + b - 1, a + b, a + b + 1, a + b + 2)]; gold = "B"
            pred = "B" if right else rng.choice("ACD")
            resp = body + (f"The value is option ({pred}).\nThe answer is \\boxed{{{pred}}}." if rng.random() < 0.7 else f"So the answer is ({pred}).")
            pairs.append(("letter", resp, gold, ch, "choice", right))
        elif k < 0.85:
            p, q = rng.randint(1, 9), rng.randint(2, 9); gold = f"\\frac{{{p}}}{{{q}}}"
            pred = rng.choice([f"\\frac{{{p}}}{{{q}}}", f"{p / q:.4f}".rstrip("0"), f"\\dfrac{{{p}}}{{{q}}}", f"{p}/{q}"]) if right else f"\\frac{{{p + 1}}}{{{q}}}"
            pairs.append(("fraction", body + f"Therefore \\boxed{{{pred}}}.", gold, None, None, right))
        elif k < 0.95:
            m = rng.randint(2, 5); gold = rng.choice([f"{m}\\sqrt{{3}}", f"x^2+{m}"])
            pred = (f"\\sqrt{{{3 * m * m}}}" if "sqrt" in gold else f"{m}+x^2") if right else (f"{m + 1}\\sqrt{{3}}" if "sqrt" in gold else f"x^2+{m + 1}")
            pairs.append(("symbolic", body + f"Hence \\boxed{{{pred}}}.", gold, None, None, right))
        else:
            gold = rng.choice(["Yes", "No"]); pred = gold if right else ("No" if gold == "Yes" else "Yes")
            pairs.append(("text", body + f"\\boxed{{\\text{{{pred}}}}}", gold, None, None, right))
    return pairs


def run(name, fn, pairs):
    lat = []; t0 = time.perf_counter(); fp = fn_ = 0
    for kind, resp, gold, ch, at, right in pairs:
        t = time.perf_counter(); ok = bool(fn(resp, gold, ch, at)); lat.append(time.perf_counter() - t)
        fp += ok and not right; fn_ += right and not ok
    total = time.perf_counter() - t0
    common = [l for l, p in zip(lat, pairs) if p[0] in ("int", "letter", "fraction")]
    q = lambda xs, f: statistics.quantiles(xs, n=100)[int(f * 100) - 1] if len(xs) > 1 else xs[0]
    return {"grader": name, "items/s": len(pairs) / total, "common items/s": len(common) / sum(common),
            "p50 ms": 1e3 * statistics.median(lat), "p99 ms": 1e3 * q(lat, 0.99), "max ms": 1e3 * max(lat), "false accepts": fp, "false rejects": fn_}


def main():
    ap = argparse.ArgumentParser(); ap.add_argument("--n", type=int, default=10000); ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "grading.md")); a = ap.parse_args()
    from math_verify import parse, verify
    from mathruler.grader import extract_boxed_content, grade_answer
    from coldstart_nb.grading import GradeConfig, grade, symbolic_pool

    pairs = make_pairs(a.n, a.seed)
    symbolic_pool().warm()
    ours = lambda r, g, c, t: grade(r, g, c, t, GradeConfig()).correct
    ours_paper = lambda r, g, c, t: grade(r, g, c, t, GradeConfig(mode="paper")).correct
    mv = lambda r, g, c, t: verify(parse("\\boxed{" + g + "}"), parse(r))   # math-verify's own extraction and timeouts
    mr = lambda r, g, c, t: grade_answer(extract_boxed_content(r), g)       # the paper's reward grader
    rows = [run("ours (default: fast path + math-verify)", ours, pairs), run("ours (paper mode: mathruler)", ours_paper, pairs),
            run("math-verify directly", mv, pairs), run("mathruler directly", mr, pairs)]
    base = rows[0]["items/s"]
    kinds = {k: sum(p[0] == k for p in pairs) for k in ("int", "letter", "fraction", "symbolic", "text")}
    lines = [f"Grading {a.n} pairs ({', '.join(f'{k} {v}' for k, v in kinds.items())}), one process, 1 item at a time; "
             f"ratio = items/s relative to ours (default).", "",
             "| grader | items/s | common-case items/s | p50 ms | p99 ms | max ms | false accepts | false rejects | ratio |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['grader']} | {r['items/s']:,.0f} | {r['common items/s']:,.0f} | {r['p50 ms']:.3f} | {r['p99 ms']:.2f} | "
                     f"{r['max ms']:.1f} | {r['false accepts']} | {r['false rejects']} | {r['items/s'] / base:.2f}x |")
    out = "\n".join(lines); print(out)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(out + "\n")


if __name__ == "__main__":
    main()
