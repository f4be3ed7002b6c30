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


def in_child_many(fn, items, timeout):
    "[fn(x) for x in items] in forked children with a hard limit per item (None where it did not answer in time)."
    ctx = mp.get_context("fork")
    out, i = [], 0
    while i < len(items):
        r, w = ctx.Pipe(duplex=False)
        def run(start=i):
            for x in items[start:]:
                try: w.send(fn(x))
                except BaseException: w.send(None)
        p = ctx.Process(target=run, daemon=True)
        p.start()
        while i < len(items) and r.poll(timeout):
            out.append(r.recv())
            i += 1
        p.kill()
        p.join()
        if i < len(items):   # item i hung: record it and go on in a fresh child
            out.append(None)
            i += 1
    return out


def mathruler_reward(pair):
    "EasyR1's accuracy reward (examples/reward_function/math.py): mathruler on the last boxed answer of (response, gold)."
    from mathruler.grader import extract_boxed_content, grade_answer
    pred, gold = pair
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
    refs = in_child_many(mathruler_reward, [(c["pred"], c["gold"]) for c in cases], timeout) if reference else [None] * len(cases)
    return [{"case": c, "default": grade(c["pred"], c["gold"], cfg=dcfg), "paper": grade(c["pred"], c["gold"], cfg=pcfg), "mathruler": ref}
            for c, ref in zip(cases, refs)]


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
        ok = sum(got == bool(c["expected"]) for got, c in zip(in_child_many(math_verify_direct, cases, 30), cases))
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


# ---- parity with the paper's reward on generated pairs (issue 11: the edge families that broke parity) ----
EDGE_ANSWERS = [
    "\\lambda", "2\\lambda", "\\lambda = 3", "f'(x) = 2x", "A'B'", "f''(x)", "(1;2)", "(1; 2)", "\\text{open}", "\\text{closed}", "e.g. 5",
    "i.e. 7", "None", "none", "\\text{None}", "5", "-3", "0.5", "\\frac{1}{2}", "\\dfrac{3}{4}", "2/4", "1/2", "3.14", "\\pi", "2\\pi",
    "\\sqrt{2}", "\\frac{\\sqrt{8}}{2}", "x^2+1", "1+x^2", "(1,2)", "[0,1)", "\\{1,2,3\\}", "1,000", "1000", "50\\%", "50", "30^\\circ",
    "30", "A", "B", "(C)", "\\text{(A)}", "Yes", "\\text{yes}", "x \\geq 5", "\\infty", "-\\infty", "10^{10}", "2^{3}", "9^{9^{9}}",
    "\\begin{pmatrix}1\\\\2\\end{pmatrix}", "1 m", "5 \\text{ cm}", "3 meters", "\\$5", "5 million",
    "__import__('os').getcwd()", "open('x')", "input()", "exit()", "breakpoint()", "lambda x: x", "'; DROP", "a" * 310,
    "1+" * 160 + "1", "\\boxed{3}", "", " ", "{", "}", "\\", "$x$", "$$5$$",
]
WRAPS = ["\\boxed{%s}", "So the answer is \\boxed{%s}.", "<think> a / b < c </think> \\boxed{%s}", "\\boxed{ %s }",
         "First \\boxed{1}, then \\boxed{%s}", "The answer is %s.", "%s", "\\boxed{%s} < / answer >"]


def edge_pairs(n=800, seed=0):
    "(response, gold) pairs: every edge answer in every wrapper against itself, and random other golds."
    import random
    rng = random.Random(seed)
    pairs = [(w % a, a) for a in EDGE_ANSWERS for w in WRAPS[:2]]
    pairs += [("no box at all", g) for g in ("none", "None", "\\text{None}", "5")]
    while len(pairs) < n:
        pairs.append((rng.choice(WRAPS) % rng.choice(EDGE_ANSWERS), rng.choice(EDGE_ANSWERS)))
    return pairs[:n]


def easyr1_accuracy(pair, strip_tags=False):
    "The accuracy part of EasyR1's math reward; strip_tags: upstream's whitespace fix first (the authors' fork omits it)."
    import re
    resp, gold = pair
    if strip_tags: resp = re.sub(r"\s*(<|>|/)\s*", r"\1", resp)
    return mathruler_reward((resp, gold))


def easyr1_accuracy_upstream(pair):
    return easyr1_accuracy(pair, strip_tags=True)


def parity(pairs, strip_tags=False, timeout=5.0):
    "(disagreements, answered, total): our paper mode vs EasyR1's accuracy on pairs both answered."
    from coldstart_nb.grading import GradeConfig, grade
    cfg = GradeConfig(mode="paper", timeout=timeout, paper_strip_tags=strip_tags)
    refs = in_child_many(easyr1_accuracy_upstream if strip_tags else mathruler_reward, pairs, timeout)
    ours = [grade(r, g, cfg=cfg) for r, g in pairs]
    both = [(p, v, ref) for p, v, ref in zip(pairs, ours, refs) if ref is not None and v.layer not in ("timeout", "error")]
    return [(p, v, ref) for p, v, ref in both if v.correct != ref], len(both), len(pairs)
