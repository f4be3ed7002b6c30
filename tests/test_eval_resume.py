"""An evaluation killed part way and restarted ends with the same results as an uninterrupted one."""
import json
import os
import signal
import subprocess
import sys
import time

SCRIPT = """
import sys, json, time
from coldstart_nb.evaluate import evaluate
from coldstart_nb.generate import GenConfig, HFBackend
from coldstart_nb.models import load_model, load_processor
from coldstart_nb.synth import make_split
model_dir, store, out, slow = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
items = make_split("test", 4, progress=False)
class Slow(HFBackend):
    def generate_batch(self, reqs, cfg, seed):
        time.sleep(slow); return super().generate_batch(reqs, cfg, seed)
be = Slow(load_model(model_dir, device="cpu"), load_processor(model_dir))
r = evaluate(be, items, "tiny", GenConfig(n=2, temperature=1.0, max_new_tokens=12, batch_size=4, seed=1), store=store, progress=False)
json.dump(r["scores"], open(out, "w"), sort_keys=True)
"""


def run(model_dir, store, out, slow="0"):
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(model_dir), str(store), str(out), slow], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_killed_evaluation_resumes_to_the_same_scores(tiny_model_dir, tmp_path):
    p = run(tiny_model_dir, tmp_path / "a.jsonl", tmp_path / "a.json"); _, err = p.communicate(timeout=300); assert p.returncode == 0, err[-2000:]
    p = run(tiny_model_dir, tmp_path / "b.jsonl", tmp_path / "b.json", "1.0")
    deadline = time.time() + 240
    while time.time() < deadline and not ((tmp_path / "b.jsonl").exists() and sum(1 for _ in open(tmp_path / "b.jsonl")) >= 8):
        time.sleep(0.05)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    n = sum(1 for _ in open(tmp_path / "b.jsonl")); assert 0 < n and not (tmp_path / "b.json").exists()
    p = run(tiny_model_dir, tmp_path / "b.jsonl", tmp_path / "b.json"); _, err = p.communicate(timeout=300); assert p.returncode == 0, err[-2000:]
    assert json.load(open(tmp_path / "a.json")) == json.load(open(tmp_path / "b.json"))
    ids = [json.loads(l)["id"] for l in open(tmp_path / "b.jsonl")]
    assert len(ids) == len(set(ids))
