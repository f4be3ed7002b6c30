"""A wall-clock deadline for a grading call (issue 24, item 4). The per-item budget stays worker CPU time (verdicts do
not depend on load); on top of it `GradeConfig.deadline` bounds the whole `grade`/`grade_many` call, queue included.
Items that cannot be graded by then are flagged (layer 'deadline', `Verdict.graded` False) and counted, never a
silent wrong answer; fast items are still graded. The slow items here need 20 s of worker CPU each, so they cannot
finish by a 2 s deadline on any machine; the only timing assertion is a generous hang guard."""
import threading
import warnings

import pytest

from coldstart_nb import gradepool
from coldstart_nb.grading import GradeConfig, accuracy_reward, grade, grade_many, symbolic_pool


def slow(i):
    return "\\boxed{9^{9^{9^{9^{9^{" + str(i + 2) + "}}}}}}"   # distinct items; math-verify works on each until its budget ends


@pytest.fixture
def pool(monkeypatch):
    monkeypatch.setattr(gradepool, "CACHE_SIZE", 0)
    p = symbolic_pool()
    assert p.warm()
    yield p
    for w in list(p.draining): w.kill()   # cut the slow items still running in the background; the pool replaces the workers


def returns(fn, guard=300):
    "fn()'s result; fails (instead of hanging the suite) when the call does not return within `guard` seconds."
    box = {}
    t = threading.Thread(target=lambda: box.update(out=fn()), daemon=True)
    t.start()
    t.join(guard)
    assert not t.is_alive(), f"the call did not return within {guard}s"
    return box["out"]


def test_batch_returns_by_its_deadline_with_slow_items_flagged(pool):
    n_slow = pool.size + 2   # more slow items than workers: some are cut while working, the rest never get a worker
    fast = [(f"so \\boxed{{{i}}}", str(i), True) for i in range(30)] + [(f"so \\boxed{{{i + 1}}}", str(i), False) for i in range(30)]
    items = [(slow(i), "1", False) for i in range(n_slow)] + fast
    before = pool.stats["deadline"]
    vs = returns(lambda: grade_many([x[0] for x in items], [x[1] for x in items], cfg=GradeConfig(timeout=20.0, deadline=2.0)))
    assert [(v.layer, v.graded, v.correct) for v in vs[:n_slow]] == [("deadline", False, False)] * n_slow
    assert all(v.graded for v in vs[n_slow:]) and [v.correct for v in vs[n_slow:]] == [x[2] for x in fast]
    assert pool.stats["deadline"] - before == n_slow                      # counted
    assert sum(not v.graded for v in vs) == n_slow


def test_single_call_returns_and_the_worker_serves_again(pool):
    v = returns(lambda: grade(slow(0), "1", cfg=GradeConfig(timeout=20.0, deadline=1.0)))
    assert (v.layer, v.graded, v.correct) == ("deadline", False, False) and "deadline" in v.detail
    assert len(pool.draining) <= 1            # a worker that took the item finishes it (or is cut at its budget) in the background
    for w in list(pool.draining): w.kill()
    v = returns(lambda: grade("\\boxed{\\frac{\\sqrt{8}}{2}}", "\\sqrt{2}", cfg=GradeConfig(deadline=300.0)))
    assert (v.correct, v.layer, v.graded) == (True, "math_verify", True)    # with time to spare, the deadline changes nothing


def test_accuracy_reward_gives_no_reward_to_ungraded_items(pool):
    comps = [slow(0), "so \\boxed{4}", "so \\boxed{5}"]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = returns(lambda: accuracy_reward(comps, answer=["1", "4", "4"], mode="default", timeout=20.0, deadline=1.0))
    assert out == [None, 1.0, 0.0]                                         # None: TRL's "no reward", never a silent 0.0
    assert any("1 of 3 completions not graded" in str(x.message) for x in w)
    assert accuracy_reward(["so \\boxed{4}"], answer=["4"]) == [1.0]       # no deadline: as before
