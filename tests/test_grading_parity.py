"""Paper mode gives exactly the paper's reward (EasyR1 `examples/reward_function/math.py`: mathruler's
`grade_answer(extract_boxed_content(response), gold)`), also on the edge families that the old keyword filter
broke (`\\lambda`, primes, `(1;2)`, `\\text{open}`, `e.g. 5`, answers over 300 characters, gold `none` without a
box) and on code-looking answers. The reference runs in forked children with a hard limit per item."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("grading_cases", ROOT / "bench" / "grading_cases.py")
gc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gc)


@pytest.mark.parametrize("strip_tags", [False, True], ids=["authors-fork", "upstream-easyr1"])
def test_zero_disagreements_with_easyr1(strip_tags):
    pairs = gc.edge_pairs(600, seed=1 + strip_tags)
    bad, answered, total = gc.parity(pairs, strip_tags=strip_tags)
    assert answered >= 0.98 * total, (answered, total)
    assert bad == [], bad[:5]


def test_edge_families_are_accepted_like_mathruler():
    from coldstart_nb.grading import GradeConfig, grade
    cfg = GradeConfig(mode="paper")
    for ans in ["\\lambda", "f'(x) = 2x", "A'B'", "(1;2)", "\\text{open}", "e.g. 5", "a" * 310]:
        assert grade("\\boxed{%s}" % ans, ans, cfg=cfg).correct, ans
    assert grade("no box here", "none", cfg=cfg).correct      # mathruler's extractor returns 'None' without a box


def test_random_latex_pairs_match_easyr1():
    import random
    rng = random.Random(3)
    atoms = ["1", "2", "12", "0.5", "x", "y", "\\frac{", "}{", "}", "{", "^", "_", "\\sqrt{", "(", ")", "[", "]", ",", ";", "'", "+", "-",
             "/", " ", "\\lambda", "\\text{", "\\pi", "\\%", "^\\circ", "\\infty", "=", "a", "b", "\\boxed{", "\\left(", "\\right)", "\\!"]
    def rand(k):
        return "".join(rng.choice(atoms) for _ in range(rng.randint(1, k)))
    pairs = []
    for _ in range(400):
        gold = rand(6)
        pred = gold if rng.random() < 0.3 else rand(6)
        pairs.append((rng.choice(["\\boxed{%s}", "so \\boxed{%s}.", "%s"]) % pred, gold))
    bad, answered, total = gc.parity(pairs)
    assert answered >= 0.95 * total, (answered, total)
    assert bad == [], bad[:5]
