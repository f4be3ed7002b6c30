"""Kill a generation run part way (SIGKILL), run it again: the file equals an uninterrupted run's, no duplicate ids."""
import json
import os
import signal
import subprocess
import sys
import time

SCRIPT = """
import sys, time
from coldstart_nb.models import load_model, load_processor
from coldstart_nb.synth import make_split
from coldstart_nb.generate import GenConfig, HFBackend, generate, requests_from_samples
model_dir, store, slow = sys.argv[1], sys.argv[2], float(sys.argv[3])
samples = make_split("test", 6, progress=False)[:24]
backend = HFBackend(load_model(model_dir, device="cpu"), load_processor(model_dir))
cfg = GenConfig(n=2, temperature=1.0, max_new_tokens=10, batch_size=4, seed=3)
generate(backend, requests_from_samples(samples), cfg, store=store, progress=False, on_batch=lambda i, r: time.sleep(slow))
print("done")
"""


def run(model_dir, store, slow="0"):
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(model_dir), str(store), slow],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def lines(p):
    return [json.loads(l) for l in open(p)]


def test_kill_and_resume(tiny_model_dir, tmp_path):
    full, resumed = tmp_path / "full.jsonl", tmp_path / "resumed.jsonl"
    p = run(tiny_model_dir, full); out, err = p.communicate(timeout=300); assert p.returncode == 0, err[-2000:]

    p = run(tiny_model_dir, resumed, slow="1.0")
    deadline = time.time() + 240
    while time.time() < deadline:
        if resumed.exists() and sum(1 for _ in open(resumed)) >= 8: break
        time.sleep(0.05)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    partial = lines(resumed)
    assert 0 < len(partial) < 24, f"kill came too late or too early: {len(partial)} records"
    with open(resumed, "a") as f: f.write('{"id": "synth-torn')  # as if the kill hit mid-write

    p = run(tiny_model_dir, resumed); out, err = p.communicate(timeout=300); assert p.returncode == 0, err[-2000:]
    a, b = lines(full), lines(resumed)
    assert len(b) == 24 and len({r["id"] for r in b}) == 24
    assert sorted(a, key=lambda r: r["id"]) == sorted(b, key=lambda r: r["id"])
    assert b[:len(partial)] == partial  # what was written before the kill is kept as it was
