"""Grader benchmarks, one table each:
1. throughput: ours vs math-verify directly vs mathruler directly, on the same 10,000 realistic pairs (result cache off);
2. adversarial inputs (issue 11): time of each on the main thread and in an 8-thread pool, against limit + 0.5 s,
   and the longest stall of a heartbeat thread meanwhile;
3. a reward batch of 1,280 completions (one optimizer step of the paper's recipe) through `grade_many`;
4. Math-Verify's own test cases per mode, and parity with EasyR1's reward on generated edge pairs;
5. the caller's wall-clock deadline (issue 24) on an idle and on a loaded machine (CPU burner processes beside the
   grader): the issue's three callers (one hanging item on the main thread, 8 hanging items in an 8-thread pool, a
   reward batch of 1,280 with 4 hanging items), each without and with `GradeConfig.deadline`.

Usage: python bench/grading.py [--n 10000] [--seed 0] [--limit 5] [--parity 4000] [--out bench/results/grading.md]
       python bench/grading.py --deadline-only [--deadline 6] [--burners 0] [--out bench/results/grading_deadline.md]

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


def _burners(n, seconds):
    "n processes that spin on a core for `seconds` (the load beside the grader); they inherit our niceness."
    import subprocess
    code = f"import time\nt = time.time()\nwhile time.time() - t < {seconds}: pass"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(n)]


def deadline_table(limit, deadline, seed, burners=0):
    """Wall time of the issue's three callers with and without a deadline, idle and loaded. 'not graded' = layer
    'deadline' (Verdict.graded False); 'verdicts changed' = graded items whose verdict differs from the idle run without
    a deadline (the CPU-time budget keeps verdicts independent of load)."""
    from concurrent.futures import ThreadPoolExecutor
    from coldstart_nb import gradepool
    from coldstart_nb.grading import GradeConfig, grade, grade_many, symbolic_pool
    gradepool.CACHE_SIZE = 0
    pool = symbolic_pool()
    pool.warm()
    load0 = os.getloadavg()[0]
    hang = lambda i: "\\boxed{9^{9^{9^{9^{9^{" + str(i + 2) + "}}}}}}"

    def in_threads(fn, xs):
        with ThreadPoolExecutor(8) as ex: return list(ex.map(fn, xs))
    pairs = make_pairs(1280, seed + 2)
    batch = [(p[1], p[2], p[3], p[4]) for p in pairs]
    for k in range(4): batch[320 * k + 7] = (hang(k), "1", None, None)
    callers = {
        "main thread, 1 hanging item": lambda cfg: [grade(hang(0), "1", cfg=cfg)],
        "8-thread pool, 8 hanging items": lambda cfg: in_threads(lambda i: grade(hang(i), "1", cfg=cfg), range(8)),
        "reward batch: grade_many, 1,280 items (4 hanging)": lambda cfg: grade_many(*[[b[j] for b in batch] for j in range(4)], cfg=cfg),
    }
    loads = [("idle", 0)] + ([(f"{burners} CPU burners", burners)] if burners else [])
    ref, rows = {}, []
    for load, n in loads:
        for name, call in callers.items():
            for dl in (0.0, deadline):
                _full_pool(pool)
                procs = _burners(n, 600) if n else []
                try:
                    time.sleep(0.5 if n else 0)
                    t = time.perf_counter()
                    vs = call(GradeConfig(timeout=limit, deadline=dl))
                    dt = time.perf_counter() - t
                finally:
                    for q in procs: q.kill()
                    for q in procs: q.wait()
                if (load, dl) == ("idle", 0.0): ref[name] = [v.correct for v in vs]
                changed = sum(v.graded and v.correct != r for v, r in zip(vs, ref[name]))
                rows.append((load, name, dl, dt, max(v.wait for v in vs), sum(v.graded for v in vs), sum(not v.graded for v in vs),
                             sum(v.layer == "timeout" for v in vs), changed, len(vs)))
        _full_pool(pool)
    gradepool.CACHE_SIZE = 100_000
    lines = [f"Caller's deadline (issue 24): budget {limit} s of worker CPU per item; {pool.size} grading workers; {os.cpu_count()} cores"
             f"{f'; loaded = {burners} processes spinning beside the grader' if burners else ''}. seconds = wall time of the whole "
             "call; not graded = layer 'deadline' (Verdict.graded False, counted, never a wrong answer); verdicts changed = graded "
             f"items whose verdict differs from the idle run without a deadline. 'idle' = no burners of ours (load average "
             f"{load0:.1f} when the table started; the machine may be shared).", "",
             "| load | caller | deadline s | seconds | max queue wait s | graded | not graded | timeouts | verdicts changed |",
             "|---|---|---|---|---|---|---|---|---|"]
    for load, name, dl, dt, mw, g, ng, to, ch, n in rows:
        lines.append(f"| {load} | {name} | {dl if dl else 'none'} | {dt:.2f} | {mw:.2f} | {g} / {n} | {ng} | {to} | {ch} |")
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
    ap.add_argument("--deadline", type=float, default=6.0); ap.add_argument("--burners", type=int, default=2 * (os.cpu_count() or 1))
    ap.add_argument("--deadline-only", action="store_true")
    ap.add_argument("--out", default=None); a = ap.parse_args()
    if a.deadline_only:
        out = deadline_table(a.limit, a.deadline, a.seed, a.burners)
        print(out, flush=True)
        Path(a.out or Path(__file__).parent / "results" / "grading_deadline.md").write_text(out + "\n")
        return
    a.out = a.out or str(Path(__file__).parent / "results" / "grading.md")
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
    for part in (adversarial_table(a.limit), batch_table(a.seed), cases_table(a.parity, a.seed),
                 deadline_table(a.limit, a.deadline, a.seed, a.burners)):
        print("\n" + part, flush=True)
        out += "\n\n" + part
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(out + "\n")


if __name__ == "__main__":
    main()
