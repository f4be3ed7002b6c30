"""Grader benchmarks, one table each:
1. throughput: ours vs math-verify directly vs mathruler directly, on the same 10,000 realistic pairs (result cache off);
2. adversarial inputs (issue 11): time of each on the main thread and in an 8-thread pool, against limit + 0.5 s,
   and the longest stall of a heartbeat thread meanwhile;
3. a reward batch of 1,280 completions (one optimizer step of the paper's recipe) through `grade_many`;
4. Math-Verify's own test cases per mode, and parity with EasyR1's reward on generated edge pairs.

Usage: python bench/grading.py [--n 10000] [--seed 0] [--limit 5] [--parity 4000] [--out bench/results/grading.md]

Pairs mimic what the pipeline grades: step-by-step responses ending in \\boxed{} (integers, option
letters, fractions/decimals, radicals/polynomials, yes/no), some right and some wrong, some answered
only in words ("The answer is (C)"). "Common case" = integer, letter and fraction items. Each grader
sees the same pairs in the same order, in one process, one item at a time (latency per item).
Each pair carries the truth (was the boxed/stated answer right?), so false accepts/rejects are counted.
"""
import argparse
import logging
import os
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


ADVERSARIAL = {  # name: (response, gold)
    "units: \\boxed{1 m m ... m x} (14 units)": ("\\boxed{1" + " m" * 14 + " x}", "1"),
    "units: \\boxed{1 m ... m x} (5,000 units)": ("\\boxed{1" + " m" * 5000 + " x}", "1"),
    "'answer is' + 1,200 spaces + 900 letters": ("answer is" + " " * 1200 + "a" * 900, "1"),
    "'answer is' + 50,000 spaces + 50,000 letters": ("answer is" + " " * 50000 + "a" * 50000, "1"),
    "hanging symbolic: \\boxed{9^{9^{9^{9^{9^{9}}}}}}": ("\\boxed{9^{9^{9^{9^{9^{9}}}}}}", "1"),
    "deep nesting, one brace short (40 KB)": ("\\boxed{" + "{" * 20000 + "}" * 19999, "1"),
    "1 MB response ending in \\boxed{3}": ("x" * 1_000_000 + "\\boxed{3}", "3"),
    "100 KB of 'answer:'": ("answer:" * 15000, "1"),
    "spaces before '/' (EasyR1's tag regex), 100 KB": (" " * 100_000 + "/\\boxed{1}", "1"),
}


class Heartbeat:
    "A thread that wakes every 10 ms and records the longest gap beyond that (a GIL-holding step shows as a stall)."
    def __init__(self):
        import threading
        self.max_stall, self.stop = 0.0, threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
    def run(self):
        last = time.perf_counter()
        while not self.stop.is_set():
            time.sleep(0.01)
            now = time.perf_counter()
            self.max_stall = max(self.max_stall, now - last - 0.01)
            last = now
    def __enter__(self):
        self.t.start()
        return self
    def __exit__(self, *a):
        self.stop.set()
        self.t.join()


def _full_pool(pool, timeout=120):
    "Wait until every worker is idle (a worker killed by the previous item restarts in the background)."
    end = time.perf_counter() + timeout
    while pool.idle.qsize() < pool.size and time.perf_counter() < end: time.sleep(0.05)


def adversarial_table(limit):
    from concurrent.futures import ThreadPoolExecutor
    from coldstart_nb import gradepool
    from coldstart_nb.grading import GradeConfig, grade, symbolic_pool
    gradepool.CACHE_SIZE = 0
    rows = []
    def timed(it, cfg):
        t = time.perf_counter()
        v = grade(it[1][0], it[1][1], cfg=cfg)
        return it[0], time.perf_counter() - t, v
    modes = (("default", GradeConfig(timeout=limit)),
             (f"default, wall_limit={limit + 0.5}", GradeConfig(timeout=limit, wall_limit=limit + 0.5)),
             ("paper", GradeConfig(mode="paper", timeout=limit)))
    for mode, cfg in modes:
        for it in ADVERSARIAL.items():
            _full_pool(symbolic_pool())
            with Heartbeat() as hb: name, dt, v = timed(it, cfg)
            rows.append((mode, "main thread", name, dt, v, hb.max_stall))
        _full_pool(symbolic_pool())
        with Heartbeat() as hb, ThreadPoolExecutor(8) as ex:
            out = list(ex.map(lambda it: timed(it, cfg), ADVERSARIAL.items()))
        for name, dt, v in out: rows.append((mode, "8-thread pool", name, dt, v, hb.max_stall))
    lines = [f"Adversarial inputs, limit {limit} s of worker time per item. seconds = the whole grade call; wait = queued for a free "
             f"worker ({symbolic_pool().size} workers; in the pool the items queue behind each other); work = seconds - wait, which must "
             "be <= limit + 0.5 (the default budget is worker CPU time, so a worker that gets part of a busy core runs longer "
             "in wall time; "
             "wall_limit caps it). heartbeat = longest stall of a thread that wakes every 10 ms (for the pool: over the whole run).", "",
             "| mode | where | input | seconds | wait | work <= limit + 0.5 | layer | heartbeat max stall s |",
             "|---|---|---|---|---|---|---|---|"]
    for mode, where, name, dt, v, stall in rows:
        ok = "yes" if dt - v.wait <= limit + 0.5 else "NO"
        lines.append(f"| {mode} | {where} | {name} | {dt:.3f} | {v.wait:.3f} | {ok} | {v.layer} | {stall:.3f} |")
    return "\n".join(lines)


def batch_table(seed):
    from coldstart_nb import gradepool
    from coldstart_nb.grading import GradeConfig, grade_many, symbolic_pool
    pairs = make_pairs(1280, seed + 1)
    lines = [f"A reward batch of 1,280 completions (the mix above) through grade_many, {symbolic_pool().size} grading workers, "
             f"{2 * symbolic_pool().size} threads.", "",
             "| mode | result cache | seconds | items/s | max wait s | timeouts | errors | verdicts != pair's truth |",
             "|---|---|---|---|---|---|---|---|"]
    for mode in ("paper", "default"):
        for cache in (0, 100_000):
            gradepool.CACHE_SIZE = cache
            symbolic_pool().cache.clear()
            t = time.perf_counter()
            cols = [[p[j] for p in pairs] for j in range(1, 5)]
            vs = grade_many(*cols, GradeConfig(mode=mode))
            dt = time.perf_counter() - t
            wrong = sum(v.correct != p[5] for v, p in zip(vs, pairs) if not (mode == "paper" and "\\boxed" not in p[1]))
            lines.append(f"| {mode} | {'on' if cache else 'off'} | {dt:.2f} | {1280 / dt:,.0f} | {max(v.wait for v in vs):.3f} | "
                         f"{sum(v.layer == 'timeout' for v in vs)} | {sum(v.layer == 'error' for v in vs)} | {wrong} |")
    hard = [(f"\\boxed{{\\frac{{\\sqrt{{{8 * (i + 1) ** 2}}}}}{{2}}}}", f"{i + 1}\\sqrt{{2}}") for i in range(1280)]
    gradepool.CACHE_SIZE = 0
    for mode in ("paper", "default"):
        t = time.perf_counter()
        vs = grade_many([h[0] for h in hard], [h[1] for h in hard], cfg=GradeConfig(mode=mode))
        dt = time.perf_counter() - t
        lines.append(f"| {mode}, all 1,280 symbolic and distinct | off | {dt:.2f} | {1280 / dt:,.0f} | {max(v.wait for v in vs):.3f} | "
                     f"{sum(v.layer == 'timeout' for v in vs)} | {sum(v.layer == 'error' for v in vs)} | "
                     f"{sum(not v.correct for v in vs)} |")
    gradepool.CACHE_SIZE = 100_000
    lines += ["", "(paper mode: responses without \\boxed are left out of the last column; the rest are mathruler's own rules, e.g. it "
              "rejects a rounded decimal for a fraction gold)"]
    return "\n".join(lines)


def cases_table(n_parity, seed):
    import importlib.util
    spec = importlib.util.spec_from_file_location("grading_cases", Path(__file__).with_name("grading_cases.py"))
    gc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gc)
    text, *_ = gc.table(gc.run_cases(gc.load_cases()))
    lines = [text, "", "Parity with EasyR1's reward (accuracy part) on generated edge pairs (answered by both):", "",
             "| reference | pairs | answered by both | disagreements |", "|---|---|---|---|"]
    refs = ((False, "authors' fork (RL-with-Cold-Start score_function/math.py)"), (True, "upstream EasyR1 (whitespace fix first)"))
    for strip, name in refs:
        bad, both, total = gc.parity(gc.edge_pairs(n_parity, seed), strip_tags=strip)
        lines.append(f"| {name} | {total} | {both} | {len(bad)} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(); ap.add_argument("--n", type=int, default=10000); ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=float, default=5.0); ap.add_argument("--parity", type=int, default=4000)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "grading.md")); a = ap.parse_args()
    from math_verify import parse, verify
    from mathruler.grader import extract_boxed_content, grade_answer
    from coldstart_nb import gradepool
    from coldstart_nb.grading import GradeConfig, grade, symbolic_pool

    pairs = make_pairs(a.n, a.seed)
    symbolic_pool().warm()
    gradepool.CACHE_SIZE = 0   # throughput without the result cache (the batch table shows both)
    ours = lambda r, g, c, t: grade(r, g, c, t, GradeConfig()).correct
    ours_paper = lambda r, g, c, t: grade(r, g, c, t, GradeConfig(mode="paper")).correct
    mv = lambda r, g, c, t: verify(parse("\\boxed{" + g + "}"), parse(r))   # math-verify's own extraction and timeouts
    mr = lambda r, g, c, t: grade_answer(extract_boxed_content(r), g)       # the paper's reward grader
    rows = [run("ours (default: fast path + math-verify)", ours, pairs), run("ours (paper mode: mathruler)", ours_paper, pairs),
            run("math-verify directly", mv, pairs), run("mathruler directly", mr, pairs)]
    base = rows[0]["items/s"]
    kinds = {k: sum(p[0] == k for p in pairs) for k in ("int", "letter", "fraction", "symbolic", "text")}
    lines = [f"Machine: {os.cpu_count()} cores; grading workers: {symbolic_pool().size}.", "",
             f"Grading {a.n} pairs ({', '.join(f'{k} {v}' for k, v in kinds.items())}), one process, 1 item at a time; "
             f"ratio = items/s relative to ours (default).", "",
             "| grader | items/s | common-case items/s | p50 ms | p99 ms | max ms | false accepts | false rejects | ratio |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['grader']} | {r['items/s']:,.0f} | {r['common items/s']:,.0f} | {r['p50 ms']:.3f} | {r['p99 ms']:.2f} | "
                     f"{r['max ms']:.1f} | {r['false accepts']} | {r['false rejects']} | {r['items/s'] / base:.2f}x |")
    out = "\n".join(lines)
    print(out, flush=True)
    for part in (adversarial_table(a.limit), batch_table(a.seed), cases_table(a.parity, a.seed)):
        print("\n" + part, flush=True)
        out += "\n\n" + part
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(out + "\n")


if __name__ == "__main__":
    main()
