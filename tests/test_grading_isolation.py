"""Safety from isolation, not from a word list (issue 11, defect 3): the model's text is parsed only inside a worker
with no stdin, resource limits and no process/file-write/exit hatches; a worker that faults is replaced, and the
grader keeps working. Marker files prove that nothing a payload asks for happens."""
import json
import os
import subprocess
import sys

import pytest

from coldstart_nb.grading import GradeConfig, accuracy_reward, grade, symbolic_pool


def payloads(marker):
    m = str(marker)
    return [f"__import__('os').system('touch {m}')", f"open('{m}', 'w').write('x')", f"open('{m}','a')",
            f"__import__('subprocess').run(['touch', '{m}'])", f"__import__('pathlib').Path('{m}').touch()",
            f"exec(\"open('{m}','w')\")", f"eval(\"__import__('os').system('touch {m}')\")", "input()", "exit()", "quit()",
            "breakpoint()", "__import__('os')._exit(0)", "__import__('os').kill(__import__('os').getppid(), 9)",
            "[x for x in iter(int, 1)]", "9**9**9**9", "(lambda: 1)()", "lambda x: x", "().__class__.__bases__[0].__subclasses__()"]


@pytest.mark.parametrize("mode", ["default", "paper"])
def test_payloads_do_nothing_and_grader_keeps_working(tmp_path, mode):
    marker = tmp_path / "pwned"
    cfg = GradeConfig(mode=mode, timeout=2.0)
    for p in payloads(marker):
        for wrap in ("\\boxed{%s}", "The answer is %s", "%s", "<answer>%s</answer>"):
            v = grade(wrap % p, "271828", cfg=cfg)
            assert not v.correct, (p, v)
        accuracy_reward(["\\boxed{%s}" % p], answer=["271828"], mode=mode)
        # after every payload the grader still answers a symbolic question right
        assert grade("\\boxed{\\frac{\\sqrt{8}}{2}}", "\\sqrt{2}", cfg=cfg).correct
    assert not marker.exists()


def test_worker_has_no_stdin_and_limits():
    pool = symbolic_pool()
    assert pool.warm()
    w = pool.idle.get()
    try:
        assert os.readlink(f"/proc/{w.p.pid}/fd/0") == "/dev/null"
        limits = open(f"/proc/{w.p.pid}/limits").read()
        fsize = [l for l in limits.splitlines() if l.startswith("Max file size")][0].split()
        assert fsize[3] == "0", fsize                                   # soft limit: no file content can be written
        core = [l for l in limits.splitlines() if l.startswith("Max core file size")][0].split()
        assert core[4] == "0", core
    finally:
        pool.idle.put(w)


def test_hardened_process_refuses_every_hatch(tmp_path):
    # the mechanism itself, in a fresh process: after _harden, each way out raises and nothing is written
    marker = tmp_path / "m"
    code = f"""
import json, os, subprocess, builtins
from coldstart_nb.gradepool import _harden
_harden()
tries = {{
    "os.system": lambda: os.system("touch {marker}"),
    "subprocess": lambda: subprocess.run(["touch", "{marker}"]),
    "open-w": lambda: open("{marker}", "w"),
    "open-a": lambda: open("{marker}", "a"),
    "os.fork": lambda: os.fork(),
    "input": lambda: input(),
    "exit": lambda: exit(),
    "breakpoint": lambda: breakpoint(),
    "os.remove": lambda: os.remove("{marker}.x"),
    "os._exit": lambda: os._exit(3),
}}
out = {{}}
for k, f in tries.items():
    try:
        f()
        out[k] = "ran"
    except BaseException as e:
        out[k] = type(e).__name__
print(json.dumps(out))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert all(v == "PermissionError" for v in got.values()), got
    assert not marker.exists()


def test_a_killed_worker_is_replaced():
    pool = symbolic_pool()
    assert pool.warm()
    w = pool.idle.get()
    w.p.kill()
    w.p.wait()
    pool.idle.put(w)                       # the pool does not know yet: the next item to take it meets a dead worker
    restarts = pool.stats["restarts"]
    results = [grade("\\boxed{\\frac{\\sqrt{%d}}{2}}" % (8 * k * k), "%d\\sqrt{2}" % k) for k in range(1, 6)]
    assert pool.stats["restarts"] > restarts
    assert all(v.correct for v in results)      # the item that met the dead worker was asked again of a fresh one
    assert grade("\\boxed{\\frac{\\sqrt{8}}{2}}", "\\sqrt{2}").correct


def test_a_worker_that_dies_mid_item_is_retried_not_a_timeout(monkeypatch):
    "A worker killed under an item (not the item's fault) costs a retry on a fresh worker, never a wrong verdict or a timeout."
    from coldstart_nb import gradepool
    monkeypatch.setattr(gradepool, "CACHE_SIZE", 0)
    pool = symbolic_pool()
    assert pool.warm()
    w = pool.idle.get()
    w.p.kill()
    w.p.wait()
    pool.idle.put(w)
    before, retries = pool.stats["timeouts"], pool.stats["retries"]
    outs = [pool.check("mathruler", [f"{k}/2", f"\\frac{{{k}}}{{2}}"], 5.0) for k in range(3, 3 + 2 * pool.size)]
    assert pool.stats["timeouts"] == before and pool.stats["retries"] == retries + 1
    assert all(status == "ok" for _, status, _, _ in outs), outs
    w = pool.idle.get()                    # without the retry (a second death) the item is an error, never a timeout
    w.p.kill()
    w.p.wait()
    pool.idle.put(w)
    _, status, detail, _ = pool.check("mathruler", ["1/2", "\\frac{1}{2}"], 5.0, retry=False)
    assert status == "error" and pool.stats["timeouts"] == before, detail
