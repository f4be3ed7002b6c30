"""CoT building: a killed build resumes to the same result with no duplicates; malformed teacher output is
rejected and counted, never a crash; planted benchmark duplicates (real-schema fixture) are removed."""
import json
import os
import signal
import subprocess
import sys
import time

from coldstart_nb.core import project_path
from coldstart_nb.cot import CotConfig, SolverTeacher, build_cot
from coldstart_nb.cotdata import Decontaminator, FilterConfig, apply_filters
from coldstart_nb.data import Sample, load_source
from coldstart_nb.synth import make_split, solve

SCRIPT = """
import json, sys, time
from coldstart_nb.cot import CotConfig, SolverTeacher, build_cot
from coldstart_nb.synth import make_split
work, out, slow = sys.argv[1], sys.argv[2], float(sys.argv[3])
probs = make_split("train", 5, progress=False)
class Slow(SolverTeacher):
    def generate_batch(self, reqs, cfg, seed):
        time.sleep(slow); return super().generate_batch(reqs, cfg, seed)
res = build_cot(Slow(probs, error_rate=0.4, bad_rate=0.1, seed=2), probs, CotConfig(k=3, m=2, batch_size=4), work_dir=work, progress=False)
json.dump(res, open(out, "w"), sort_keys=True)
"""


def run(work, out, slow="0"):
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(work), str(out), slow], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_killed_build_resumes_to_the_same_result(tmp_path):
    p = run(tmp_path / "w_full", tmp_path / "full.json"); _, err = p.communicate(timeout=300); assert p.returncode == 0, err[-2000:]
    p = run(tmp_path / "w_res", tmp_path / "res.json", slow="0.3")
    store = tmp_path / "w_res" / "solve.jsonl"; deadline = time.time() + 120
    while time.time() < deadline and not (store.exists() and sum(1 for _ in open(store)) >= 8):
        time.sleep(0.05)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    n_before = sum(1 for _ in open(store)); assert 0 < n_before
    assert not (tmp_path / "res.json").exists()
    p = run(tmp_path / "w_res", tmp_path / "res.json"); _, err = p.communicate(timeout=300); assert p.returncode == 0, err[-2000:]
    assert json.load(open(tmp_path / "full.json")) == json.load(open(tmp_path / "res.json"))
    for f in (tmp_path / "w_res").glob("*.jsonl"):
        ids = [json.loads(l)["id"] for l in open(f)]
        assert len(ids) == len(set(ids)), f"duplicate ids in {f.name}"


def test_bad_teacher_output_is_rejected_and_counted(tmp_path):
    probs = make_split("train", 3, progress=False)
    res = build_cot(SolverTeacher(probs, error_rate=0.0, bad_rate=1.0, seed=0), probs, CotConfig(k=4, m=1), work_dir=tmp_path, progress=False)
    for v in ("distilled", "caption", "self-critic"):
        assert all(not r["traces"] for r in res[v]), v
    reasons = {a["reason"] for r in res["distilled"] for a in r["attempts"]}
    assert reasons <= {"empty", "no-boxed", "wrong"} and "empty" in reasons and "no-boxed" in reasons
    assert sum(len(r["attempts"]) for r in res["distilled"]) == 4 * len(probs)   # every attempt recorded


def test_decontamination_against_real_schema_fixture():
    bench = list(load_source("mathvista", project_path("data", "fixtures", "mathvista.parquet"), progress=False))
    train = make_split("train", 2, progress=False)
    copy_img = Sample("copy-img", [bench[2].images[0]], "Some other question about the picture?", "1", answer_type="integer", metadata=train[0].metadata)
    long_q = bench[0].question + " Give the length to one decimal place in centimetres please, thanks."
    copy_txt = Sample("copy-txt", train[0].images, long_q, "1", answer_type="integer", metadata=train[0].metadata)
    decon_bench = bench + [Sample("long", [bench[0].images[0]], long_q, "1", answer_type="integer")]
    items = [(s, solve(s)) for s in train[:4]] + [(copy_img, "so \\boxed{1}"), (copy_txt, "thus \\boxed{1}")]
    kept, removed = apply_filters(items, FilterConfig(min_tokens=2), decon=Decontaminator(decon_bench))
    assert removed["contamination_image"] >= 1 and removed["contamination_text"] == 1
    assert {s.id for s, _ in kept}.isdisjoint({"copy-img", "copy-txt"})
