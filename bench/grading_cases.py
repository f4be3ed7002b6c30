"""Math-Verify's own test cases against our grader, per mode.

Usage: python bench/grading_cases.py [--cases data/fixtures/grading/math_verify_cases.jsonl] [--timeout 5] [--show-misses]

The cases were extracted from huggingface/Math-Verify `tests/` (see data/fixtures/SOURCES.md). Each has a gold,
a prediction (a response or an answer) and Math-Verify's expected verdict under the options its test passes.
- default mode: our verdict `grade(pred, gold)` vs the expected verdict (target >= 95% of all cases);
- paper mode: our verdict vs the paper's reward computed by mathruler itself,
  `grade_answer(extract_boxed_content(pred), gold)` (EasyR1's accuracy), run in a forked child with the same
  limit; compared on every case where both answered (target: identical);
- math-verify called directly with each case's own options (a check of the harness: should be 100%).
"""
import argparse, json, logging, multiprocessing as mp, sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CASES = ROOT / "data" / "fixtures" / "grading" / "math_verify_cases.jsonl"


def load_cases(path=CASES):
    return [json.loads(l) for l in Path(path).read_text().splitlines() if l.strip()]


def _in_child(fn, args, timeout):
    "fn(*args) in a forked child with a hard limit; None when it did not answer in time."
    ctx = mp.get_context("fork")
    r, w = ctx.Pipe(duplex=False)
    def run():
        try: w.send(fn(*args))
        except BaseException: w.send(None)
    p = ctx.Process(target=run, daemon=True)
    p.start()
    got = r.recv() if r.poll(timeout) else None
    p.kill()
    p.join()
    return got


def mathruler_reward(pred, gold):
    "EasyR1's accuracy reward (examples/reward_function/math.py): mathruler on the last boxed answer."
    from mathruler.grader import extract_boxed_content, grade_answer
    return bool(grade_answer(extract_boxed_content(pred), gold))


def math_verify_direct(case):
    "The verdict of Math-Verify's own test helper (re-stated from the case's options)."
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify
    o = case["options"]
    if case["helper"] != "compare_strings": return bool(verify(parse(case["gold"]), parse(case["pred"])))
    t = [LatexExtractionConfig(boxed_match_priority=0) if m == "latex" else ExprExtractionConfig() for m in o["match_types"]]
    return bool(verify(parse(case["gold"], t), parse(case["pred"], t), float_rounding=o["precision"], strict=o["strict"],
                       allow_set_relation_comp=o["allow_set_relation_comp"]))


def run_cases(cases, timeout=5.0, reference=True):
    "Per-case results: expected, default, paper, mathruler reference (None: did not answer), math-verify direct."
    from coldstart_nb.grading import GradeConfig, grade
    dcfg, pcfg = GradeConfig(timeout=timeout), GradeConfig(mode="paper", timeout=timeout)
    out = []
    for c in cases:
        d, p = grade(c["pred"], c["gold"], cfg=dcfg), grade(c["pred"], c["gold"], cfg=pcfg)
        ref = _in_child(mathruler_reward, (c["pred"], c["gold"]), timeout) if reference else None
        out.append({"case": c, "default": d, "paper": p, "mathruler": ref})
    return out


def table(results):
    n = len(results)
    d_ok = sum(r["default"].correct == bool(r["case"]["expected"]) for r in results)
    answered = [r for r in results if r["mathruler"] is not None and r["paper"].layer not in ("timeout", "error")]
    p_same = sum(r["paper"].correct == r["mathruler"] for r in answered)
    p_vs_exp = sum(r["paper"].correct == bool(r["case"]["expected"]) for r in results)
    lines = [f"Math-Verify test cases: {n} (from {len({r['case']['file'] for r in results})} files)", "",
             "| mode | compared with | cases | agree | agreement |", "|---|---|---|---|---|",
             f"| default | Math-Verify's expected verdict | {n} | {d_ok} | {100 * d_ok / n:.1f}% |",
             f"| paper | mathruler/EasyR1 reward (cases both answered) | {len(answered)} | {p_same} | "
             f"{100 * p_same / max(1, len(answered)):.1f}% |",
             f"| paper | Math-Verify's expected verdict (for information) | {n} | {p_vs_exp} | {100 * p_vs_exp / n:.1f}% |"]
    layers = Counter(r["default"].layer for r in results)
    lines += ["", "default-mode layers: " + ", ".join(f"{k} {v}" for k, v in layers.most_common())]
    return "\n".join(lines), d_ok, p_same, len(answered)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default=str(CASES))
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--show-misses", action="store_true")
    ap.add_argument("--direct", action="store_true", help="also run math-verify directly with each case's options")
    a = ap.parse_args()
    logging.disable(logging.WARNING)
    cases = load_cases(a.cases)
    res = run_cases(cases, a.timeout)
    text, *_ = table(res)
    print(text)
    if a.direct:
        ok = sum(_in_child(math_verify_direct, (c,), 30) == bool(c["expected"]) for c in cases)
        print(f"\nmath-verify called directly with each case's options: {ok}/{len(cases)}")
    if a.show_misses:
        for r in res:
            c, d = r["case"], r["default"]
            if d.correct != bool(c["expected"]):
                print(f"MISS default {c['file']}:{c['line']} exp={c['expected']} got={d.correct} {d.method}/{d.layer} "
                      f"extracted={str(d.extracted)[:60]!r} gold={c['gold'][:60]!r} pred={c['pred'][-80:]!r}")
            if r["mathruler"] is not None and r["paper"].correct != r["mathruler"]:
                print(f"MISS paper {c['file']}:{c['line']} ref={r['mathruler']} got={r['paper']}")


if __name__ == "__main__":
    main()
