"""Ctrl-C stops `coldstart-reproduce` and everything it started (papermill's kernel, in a session of its own, included), and
the same command then resumes from what was written (issue 22 item 5)."""
import os
import signal
import subprocess
import sys
import time

import psutil

from conftest import ROOT

HANG_GUARD = 600   # seconds: a generous bound for a hang, never a timing assertion


def reproduce_cmd():
    exe = ROOT / ".venv" / "bin" / "coldstart-reproduce"
    base = [str(exe)] if exe.exists() else [sys.executable, "-c", "from coldstart_nb.cli import reproduce_main; reproduce_main()"]
    return base + ["--preset", "tiny", "--stages", "eval", "limit=0", "sampled_n=0", "batch_size=1"]   # one item per batch: many batches


def test_sigint_stops_the_whole_tree_and_a_rerun_resumes(scratch_root):
    tmp_path, env = scratch_root, dict(os.environ)   # COLDSTART_NB_ROOT points at the scratch root
    store = tmp_path / "reports" / "predictions" / "eval_tiny" / "init-greedy.jsonl"
    proc = subprocess.Popen(reproduce_cmd(), cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while not (store.exists() and store.read_text().count("\n") >= 1):
        assert proc.poll() is None, "the run ended before it wrote a prediction: " + proc.stderr.read()[-2000:]
        assert time.time() - t0 < HANG_GUARD, "no prediction written within the hang guard"
        time.sleep(0.5)
    tree = psutil.Process(proc.pid).children(recursive=True)
    assert any("ipykernel" in " ".join(p.cmdline()) for p in tree), [p.cmdline()[:3] for p in tree]   # the kernel is in the tree
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=HANG_GUARD)
    assert proc.returncode == 130, (proc.returncode, err[-2000:])
    assert "run the same command again to resume" in err
    psutil.wait_procs(tree, timeout=60)
    alive = [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"still running after Ctrl-C: {[p.cmdline()[:3] for p in alive]}"
    done_before = store.read_text().count("\n")
    time.sleep(2)
    assert store.read_text().count("\n") == done_before, "a process kept writing after Ctrl-C"
    rerun = subprocess.run(reproduce_cmd(), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=HANG_GUARD)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    executed = (tmp_path / "reports" / "runs" / "59_eval_run_tiny.ipynb").read_text()
    assert f"init/greedy: {done_before} of" in executed, "the rerun did not reuse the predictions written before Ctrl-C"
