"""Verdicts do not depend on load (issue 11, defect 2): an item's budget starts when a worker takes it and is
charged in the worker's CPU time; queue waits are reported apart; a timeout is its own counted outcome. No
assertion depends on how fast or busy the machine is."""
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from coldstart_nb import gradepool
from coldstart_nb.grading import GradeConfig, grade, grade_many, symbolic_pool

HANG = "\\boxed{9^{9^{9^{9^{9^{9}}}}}}"   # math-verify works on it until its budget runs out


@pytest.fixture
def no_cache(monkeypatch):
    # identical items would otherwise be answered from the cache, which hides the queueing this file is about
    monkeypatch.setattr(gradepool, "CACHE_SIZE", 0)
    assert symbolic_pool().warm()


def test_slow_items_do_not_starve_correct_ones(no_cache):
    # the case: 8 threads, 4 slow items, 12 copies of sqrt(8)/2 vs sqrt(2): all 12 correct
    cfg = GradeConfig(timeout=2.0)
    items = [(HANG, "1")] * 4 + [("\\boxed{\\frac{\\sqrt{8}}{2}}", "\\sqrt{2}")] * 12
    before = symbolic_pool().stats["timeouts"]
    with ThreadPoolExecutor(8) as ex:
        out = list(ex.map(lambda x: grade(x[0], x[1], cfg=cfg), items))
    assert [(v.correct, v.layer) for v in out[4:]] == [(True, "math_verify")] * 12, out[4:]
    assert [v.layer for v in out[:4]] == ["timeout"] * 4          # a distinct, counted outcome
    assert symbolic_pool().stats["timeouts"] - before == 4
    assert all(v.wait >= 0.0 for v in out)


def test_budget_is_charged_in_worker_cpu_time(no_cache):
    # a worker that gets no CPU for longer than the budget (here: stopped, as on a machine that is fully busy)
    # still answers: its budget is CPU time, so the wait costs it nothing
    pool = symbolic_pool()
    w = pool.idle.get()
    try:
        os.kill(w.p.pid, signal.SIGSTOP)
        got = {}
        t = threading.Thread(target=lambda: got.update(r=w.ask({"op": "math_verify", "args": ["\\frac{\\sqrt{8}}{2}", "\\sqrt{2}"]}, 1.0)))
        t.start()
        time.sleep(1.5)                                               # longer than the 1 s budget, within the wall backstop
        os.kill(w.p.pid, signal.SIGCONT)
        t.join(60)
        assert got["r"] is not None and got["r"]["ok"] is True, got
    finally:
        os.kill(w.p.pid, signal.SIGCONT)
        pool.idle.put(w)


def test_cpu_time_is_read_for_workers():
    pool = symbolic_pool()
    w = pool.idle.get()
    try:
        assert gradepool._cpu_seconds(w.p.pid) is not None and gradepool._cpu_seconds(w.p.pid) > 0
    finally:
        pool.idle.put(w)


def _batch(n=1280):
    "(response, gold, truth): integers right and wrong, radicals, polynomials, unreduced fractions, 4 hanging items."
    rows = []
    for i in range(n):
        k = i % 5
        if k == 0: rows.append((f"\\boxed{{\\frac{{\\sqrt{{{8 * (i + 1) ** 2}}}}}{{2}}}}", f"{i + 1}\\sqrt{{2}}", True))
        elif k == 1: rows.append((f"so \\boxed{{{i}}}", str(i), True))
        elif k == 2: rows.append((f"so \\boxed{{{i + 1}}}", str(i), False))
        elif k == 3: rows.append((f"\\boxed{{x^2+{i}}}", f"{i}+x^2", True))
        elif i % 320 == 4: rows.append((HANG, "1", False))
        else: rows.append((f"\\boxed{{{i}/2}}", f"\\frac{{{i}}}{{2}}", True))
    return rows


def test_reward_batch_of_1280_has_no_starvation(no_cache):
    # one optimizer step of the paper's recipe: 128 prompts x 10 completions; symbolic items all distinct
    rows = _batch()
    hung = {i for i, r in enumerate(rows) if r[0] == HANG}
    for mode in ("default", "paper"):
        vs = grade_many([r[0] for r in rows], [r[1] for r in rows], cfg=GradeConfig(mode=mode, timeout=2.0))
        assert [i for i, v in enumerate(vs) if i not in hung and v.layer in ("timeout", "error")] == []
        if mode == "default":
            assert all(vs[i].layer == "timeout" for i in hung)
            assert [i for i, (v, r) in enumerate(zip(vs, rows)) if v.correct != r[2]] == []


def test_hanging_work_happens_in_the_worker_not_under_our_gil(no_cache):
    # the caller's process spends (almost) no CPU while an item hangs: the work is in the worker process, so no
    # other thread of ours is stalled; CPU time, not wall time, so load elsewhere does not matter
    import resource
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    v = grade(HANG, "1", cfg=GradeConfig(timeout=1.5))
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    ours = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    assert v.layer == "timeout"
    assert ours < 0.5, ours


def test_idle_workers_go_to_the_longest_waiter():
    # no starvation: a returned worker is handed to the first thread in line, never to a thread that arrives later
    # (the thread that just returned it included); ordering is checked, not timing
    idle = gradepool.FairIdle()
    got = {}

    def take(i):
        got[i] = idle.get(timeout=60)

    threads = []
    for i in range(3):
        t = threading.Thread(target=take, args=(i,))
        t.start()
        threads.append(t)
        while len(idle._waiters) < i + 1: time.sleep(0.001)
    for w in ("a", "b", "c"): idle.put(w)
    for t in threads: t.join(60)
    assert got == {0: "a", 1: "b", 2: "c"}
    late = threading.Thread(target=take, args=(3,))
    late.start()
    while len(idle._waiters) < 1: time.sleep(0.001)
    idle.put("d")                                  # goes to the waiter, not to the pool's free list
    late.join(60)
    assert got[3] == "d" and idle.qsize() == 0
    with pytest.raises(Exception): idle.get(timeout=0.01)


def test_wall_limit_caps_a_worker_that_gets_no_cpu(no_cache):
    # GradeConfig.wall_limit: a worker that gets no CPU at all (stopped) is given up at the wall-clock cap
    pool = symbolic_pool()
    w = pool.idle.get()
    try:
        os.kill(w.p.pid, signal.SIGSTOP)
        assert w.ask({"op": "math_verify", "args": ["\\frac{\\sqrt{8}}{2}", "\\sqrt{2}"]}, 0.5, wall=1.0) is None
    finally:
        w.kill()
        pool._spawn()
