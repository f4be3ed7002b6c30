"""The grader never raises, never hangs, and never runs model output, for any input, from the main thread, a thread
pool, or a daemonic worker process. No assertion here depends on timing or machine load: verdicts and layers are
checked, and the only time bound is a generous hang guard (the bench measures latency: bench/grading.py)."""
import multiprocessing as mp
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coldstart_nb.grading import GradeConfig, Verdict, accuracy_reward, grade, symbolic_pool

LIMIT = 1.0    # per-item budget used here (seconds of worker time)
CFG = GradeConfig(timeout=LIMIT)
PAPER = GradeConfig(mode="paper", timeout=LIMIT)

ADVERSARIAL = [
    "\\boxed{" + "{" * 20000 + "}" * 19999,                        # deep nesting, one brace short
    "\\boxed{" * 5000,                                              # unclosed boxes
    "}" * 10000 + "\\boxed{}",                                      # empty box after garbage
    "x" * 1_000_000 + "\\boxed{3}",                                 # 1 MB response
    "the answer is " + "9" * 1_000_000,                             # 1 MB number
    "\\boxed{9^{9^{9^{9^{9^{9}}}}}}",                                # huge exponent
    "\\boxed{10^{10^{10^{10}}} - 10^{10^{10^{10}}}}",
    "\\boxed{\\frac{1}{0}}", "\\boxed{0/0}", "\\boxed{\\sqrt{-1}}",
    "\\boxed{\\int_0^\\infty e^{-x^2} dx}", "\\boxed{\\sum_{n=1}^{\\infty} n}",
    "\\boxed{(((((((((((((((((((1)))))))))))))))))))}",
    "\\boxed{" + "+".join(["x"] * 2000) + "}",
    "\\boxed{\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}}",
    "\\boxed{\x00\x01\x02\ud7ff\ue000}", "\\boxed{\u202e\u200b}", "<answer>" * 1000, "(A" * 10000,
    "\\boxed{1e999999}", "\\boxed{-0}", "\\boxed{.}", "\\boxed{,,,}", "\\boxed{\\}", "\\boxed{\\\\\\\\}",
    "\\boxed{1 m m m m m m m m m m m m m m x}",                      # the unit regex that grew exponentially
    "answer is" + " " * 1200 + "a" * 900,                           # the 'answer is' regex that was quadratic
]
LAYERS = {"none", "exact", "numeric", "choice", "math_verify", "mathruler", "timeout", "error"}


@pytest.fixture(scope="module", autouse=True)
def warm_pool():
    assert symbolic_pool().warm()


@pytest.mark.parametrize("resp", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
@pytest.mark.parametrize("cfg", [CFG, PAPER], ids=["default", "paper"])
def test_adversarial_inputs(resp, cfg):
    for gold, choices, atype in [("1", None, None), ("x^2", None, None), ("B", ["1", "2", "3"], "choice")]:
        v = grade(resp, gold, choices, atype, cfg)
        assert isinstance(v, Verdict) and isinstance(v.correct, bool) and v.layer in LAYERS, (resp[:60], v)
        assert not v.correct


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(resp=st.text(max_size=300), gold=st.text(max_size=30),
       choices=st.one_of(st.none(), st.lists(st.text(max_size=10), min_size=1, max_size=5)))
def test_any_string_never_raises(resp, gold, choices):
    for cfg in (CFG, PAPER):
        v = grade(resp, gold, choices, "choice" if choices else None, cfg)
        assert isinstance(v.correct, bool) and v.layer in LAYERS


latex_atoms = st.sampled_from(["1", "2", "x", "y", "\\pi", "\\frac{", "}{", "}", "{", "^", "_", "\\sqrt{", "+", "-", "*", "/",
                               "(", ")", "\\cdot", "\\infty", "e", "\\%", "^\\circ", ",", ".", "=", "9", "\\left(", "\\right)"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.lists(latex_atoms, max_size=40).map("".join), gold=st.lists(latex_atoms, min_size=1, max_size=8).map("".join))
def test_random_latex_bounded(body, gold):
    v = grade("\\boxed{" + body + "}", gold, None, None, CFG)
    assert isinstance(v.correct, bool) and v.layer in LAYERS


def test_thread_pool_verdicts_do_not_depend_on_load():
    # many more threads than workers, hanging items among correct ones: every correct item stays correct, every
    # hanging one is a counted timeout; nothing here depends on how fast the machine is
    hang = "\\boxed{9^{9^{9^{9^{9^{9}}}}}}"
    items = [(hang, "1")] * 6 + [("\\boxed{\\frac{\\sqrt{8}}{2}}", "\\sqrt{2}")] * 20
    pool = symbolic_pool()
    before = pool.stats["timeouts"]
    with ThreadPoolExecutor(8) as ex:
        out = list(ex.map(lambda x: grade(x[0], x[1], None, None, CFG), items))
    assert [v.layer for v in out[:6]] == ["timeout"] * 6
    assert all(v.correct and v.layer in ("math_verify", "exact") for v in out[6:]), out[6:]
    assert pool.stats["timeouts"] - before == 6
    assert all(v.wait >= 0 for v in out)


def _in_daemon(_):
    v = grade("\\boxed{\\frac{\\sqrt{8}}{2}}", "\\sqrt{2}", cfg=GradeConfig(timeout=10))
    h = grade("\\boxed{9^{9^{9^{9^{9^{9}}}}}}", "1", cfg=GradeConfig(timeout=1))
    return v.correct, v.layer, h.layer


def test_inside_daemonic_worker_process():
    # multiprocessing pool workers are daemonic: they may not fork multiprocessing children, but our workers are subprocesses
    with mp.get_context("fork").Pool(1) as pool:
        assert pool.map(_in_daemon, [0]) == [(True, "math_verify", "timeout")]


def test_model_output_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    payloads = [f"__import__('os').system('touch {marker}')", f"open('{marker}','w')", f"exec(\"open('{marker}','w')\")",
                f"(lambda: __import__('pathlib').Path('{marker}').touch())()", f"eval('1') or open('{marker}', 'w')"]
    for p in payloads:
        for wrap in ("\\boxed{%s}", "The answer is %s", "<answer>%s</answer>", "%s"):
            for cfg in (CFG, PAPER):
                v = grade(wrap % p, "1", cfg=cfg)
                assert not v.correct
            accuracy_reward([wrap % p], answer=["1"])
    assert not marker.exists()
    assert not list(Path(".").glob("pwned*"))
