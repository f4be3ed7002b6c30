"""Issue 22 items 1, 2, 3, 6 and 7: nothing lost, nothing leaked.

1. A resumed training run stops exactly where an uninterrupted one does (steps, epochs, episodes), whatever the
   boundary it was killed at: mid-step, right after a checkpoint, between the last checkpoint and `final/`, while
   `final/` is being written. Kills are simulated in-process by an exception that no handler catches (a
   `BaseException`); the SIGKILL variant of a mid-run kill is `tests/test_training.py::test_kill_and_resume`.
2. One training run per `output_dir`: a second run is refused with the holder's pid.
3. Records are portable: a finished tiny pipeline copied to another folder re-runs with zero retraining and zero
   regeneration; a model's weights digest ignores run logs; the file-hash cache never returns a stale digest.
6. No secret reaches a file, a message or a repr: an echoing OpenAI-compatible server on 127.0.0.1.
7. Damaged stores fail with the file, the line and the remedy.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import torch
from transformers import TrainerCallback

from conftest import ROOT, local_server, send_json
from coldstart_nb.embedded import ensure_embedded
from coldstart_nb.grpo import GRPORecipe, rl_dataset, train_grpo
from coldstart_nb.models import load_model
from coldstart_nb.recipes import load_recipe
from coldstart_nb.sft import load_sft_data, train_sft
from coldstart_nb.stores import RecordStore, StoreError
from coldstart_nb.train import TRAINING_RECORD, PreflightError


# ---- item 1: a resumed run stops where an uninterrupted one does ----

class Killed(BaseException):
    "Stands for a kill: not an `Exception`, so no handler on the way can swallow it."


class KillAt(TrainerCallback):
    "Raise `Killed` at one point of a run: 'mid-step' (after the backward of step `step`+1, before its optimizer step) or"
    " 'saved' (right after checkpoint `step` is complete)."
    def __init__(self, where: str, step: int):
        self.where, self.step = where, step

    def on_pre_optimizer_step(self, args, state, control, **kw):
        if self.where == "mid-step" and state.global_step == self.step: raise Killed(f"mid-step {self.step + 1}")

    def on_save(self, args, state, control, **kw):
        if self.where == "saved" and state.global_step == self.step: raise Killed(f"after checkpoint-{self.step}")


def weights(d: Path) -> dict:
    return load_model(d, device="cpu").state_dict()


def worst_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max((a[k] - b[k]).abs().max().item() for k in a)


def record(out: Path) -> dict:
    return json.loads((out / "final" / TRAINING_RECORD).read_text())


@pytest.fixture(scope="module")
def sft_rows():
    ensure_embedded()
    return load_sft_data("corpus:data/synth/tiny").select(range(20))   # 5 steps per epoch at 4 per batch


def sft(out: Path, rows, callbacks=None, **over):
    "A tiny SFT run with a constant learning rate (so that a step past the end changes the weights)."
    rec = load_recipe("sft", "tiny", output_dir=str(out), eval_fraction=0.0, per_device_batch=4, save_steps=2, logging_steps=1,
                      scheduler="constant", **{"max_steps": 4, **over})
    return train_sft(rec, dataset=rows, callbacks=callbacks, check=False)[0]


RULES = {"steps": {"max_steps": 4}, "epochs": {"max_steps": -1, "epochs": 1.5}}   # both end mid-epoch (epochs: 8 steps)


@pytest.fixture(scope="module")
def sft_reference(sft_rows, tmp_path_factory):
    "Uninterrupted runs, one per stopping rule: (output_dir, weights, global_step)."
    out = {}
    for rule, over in RULES.items():
        d = tmp_path_factory.mktemp(f"sft-{rule}")
        t = sft(d, sft_rows, **over)
        out[rule] = (d, weights(d / "final"), t.state.global_step)
    assert out["steps"][2] == 4 and out["epochs"][2] == 8
    return out


@pytest.mark.parametrize("rule", list(RULES))
def test_resume_from_the_last_checkpoint_trains_no_further(rule, sft_reference, sft_rows, tmp_path, capsys):
    "The issue's reproduction: a finished run loses its `final/` (a kill between the last checkpoint and `final/`)."
    ref, w, steps = sft_reference[rule]
    out = tmp_path / "run"
    shutil.copytree(ref, out)
    shutil.rmtree(out / "final")
    t = sft(out, sft_rows, **RULES[rule])
    assert t.state.global_step == steps and record(out)["global_step"] == steps
    assert worst_diff(w, weights(out / "final")) == 0.0, "resuming at the end must not train another step"
    said = capsys.readouterr().out
    assert f"checkpoint-{steps}" in said and "no further training" in said, said[-2000:]


KILLS = {"mid-step": ("mid-step", 2), "after a checkpoint": ("saved", 2), "after the last checkpoint": ("saved", 4)}


@pytest.mark.parametrize("kill", list(KILLS))
def test_killed_sft_resumes_to_the_uninterrupted_result(kill, sft_reference, sft_rows, tmp_path):
    _, w, steps = sft_reference["steps"]
    with pytest.raises(Killed):
        sft(tmp_path, sft_rows, callbacks=[KillAt(*KILLS[kill])])
    assert not (tmp_path / "final").exists()
    t = sft(tmp_path, sft_rows)
    assert t.state.global_step == steps and record(tmp_path)["global_step"] == steps
    assert worst_diff(w, weights(tmp_path / "final")) < 1e-6


def test_kill_while_final_is_written(sft_reference, sft_rows, tmp_path, monkeypatch, capsys):
    "A kill after the weights reach `final/` but before the processor and the record: no half-written `final/` is ever"
    " trusted or in the way; the next run writes it from the last checkpoint."
    from coldstart_nb.models import VLProcessor
    _, w, steps = sft_reference["steps"]
    real = VLProcessor.save_pretrained

    def dies(self, save_directory, *a, **kw):   # checkpoints save the processor too: only the final write dies
        if Path(save_directory).name.startswith("final"): raise Killed("while writing final/")
        return real(self, save_directory, *a, **kw)
    monkeypatch.setattr(VLProcessor, "save_pretrained", dies)
    with pytest.raises(Killed):
        sft(tmp_path, sft_rows)
    monkeypatch.setattr(VLProcessor, "save_pretrained", real)
    assert not (tmp_path / "final" / "config.json").exists(), "a half-written final/ must not look like a final model"
    t = sft(tmp_path, sft_rows)
    assert t.state.global_step == steps and record(tmp_path)["global_step"] == steps
    assert worst_diff(w, weights(tmp_path / "final")) == 0.0
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("final.")], "leftovers of the interrupted write"


def test_final_without_record_says_how_to_resume(tmp_path):
    "A `final/` with no record next to checkpoints of the same run (a kill mid-write by an older version): the message"
    " names the safe step: delete final/ and run again, which resumes from the last checkpoint."
    from coldstart_nb.core import write_json
    from coldstart_nb.train import finished_run
    fp = {"stage": "sft", "config": {"lr": 0.1, "max_steps": 4}, "model": {"hub": "m"}, "data": "sha256:x"}
    (tmp_path / "checkpoint-4").mkdir(parents=True)
    (tmp_path / "checkpoint-4" / "trainer_state.json").write_text('{"global_step": 4}')
    write_json(tmp_path / TRAINING_RECORD, {"fingerprint": fp})
    (tmp_path / "final").mkdir()
    (tmp_path / "final" / "config.json").write_text("{}")
    with pytest.raises(PreflightError) as e:
        finished_run(tmp_path, fp)
    msg = str(e.value)
    assert "interrupted" in msg and "checkpoint-4" in msg and "delete" in msg.lower(), msg


@pytest.fixture(scope="module")
def rl_rows():
    ensure_embedded()
    return rl_dataset("synth:data/synth/tiny").select(range(8))


GRPO_RULES = {"steps": {"max_steps": 3}, "episodes": {"max_steps": -1, "episodes": 1.5}}   # 8 prompts: 2 steps per episode


@pytest.mark.parametrize("rule", list(GRPO_RULES))
def test_grpo_resumed_at_the_end_trains_no_further(rule, rl_rows, tmp_path):
    "The issue's GRPO reproduction: finish, lose `final/`, run again: the same step count and bit-identical weights."
    def run(out):
        rec = load_recipe("grpo", "tiny", GRPORecipe, output_dir=str(out), save_steps=2, max_completion_length=16,
                          **GRPO_RULES[rule])
        return train_grpo(rec, dataset=rl_rows, check=False)[0]
    ref = run(tmp_path)
    steps, w = ref.state.global_step, weights(tmp_path / "final")
    shutil.rmtree(tmp_path / "final")
    t = run(tmp_path)
    assert t.state.global_step == steps and record(tmp_path)["global_step"] == steps
    assert worst_diff(w, weights(tmp_path / "final")) == 0.0


# ---- item 2: one run per output_dir ----

HOLDER = """
import sys, time
from transformers import TrainerCallback
import coldstart_nb.stages
from coldstart_nb.recipes import load_recipe
from coldstart_nb.sft import load_sft_data, train_sft
class Slow(TrainerCallback):
    def on_step_end(self, args, state, control, **kw): time.sleep(1.0)
rec = load_recipe("sft", "tiny", output_dir=sys.argv[1], eval_fraction=0.0, per_device_batch=4, save_steps=2, logging_steps=1,
                  scheduler="constant", max_steps=6)   # the settings of `sft` in the test: only the lock stops the second run
t, _ = train_sft(rec, dataset=load_sft_data("corpus:data/synth/tiny").select(range(20)), callbacks=[Slow()], check=False)
print("steps", t.state.global_step)
"""


def test_second_run_into_one_output_dir_is_refused(sft_rows, tmp_path):
    out = tmp_path / "sft"
    env = {**os.environ, "COLDSTART_NB_ROOT": str(ROOT), "OMP_NUM_THREADS": "1"}
    p = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.time() + 300   # hang guard only
        while time.time() < deadline and p.poll() is None and not (out / "checkpoint-2" / "trainer_state.json").exists():
            time.sleep(0.05)
        assert p.poll() is None, p.communicate()[1][-3000:]
        with pytest.raises(PreflightError) as e:
            sft(out, sft_rows, max_steps=6)
        msg = str(e.value)
        assert f"pid {p.pid}" in msg and str(out) in msg and "another run" in msg, msg
        so, se = p.communicate(timeout=600)
        assert p.returncode == 0, se[-3000:]
    finally:
        if p.poll() is None: p.kill()
    assert "steps 6" in so and record(out)["global_step"] == 6, "the first run must finish untouched"


def test_ranks_of_one_launch_do_not_refuse_each_other(tmp_path, monkeypatch):
    "Only rank 0 takes the lock, so the other ranks of the same launch never meet it; a second launch's rank 0 is refused."
    from coldstart_nb.train import lock_output_dir, unlock_output_dir
    code = ("import sys, time; from coldstart_nb.train import lock_output_dir; lock_output_dir(sys.argv[1]); "
            "print('held', flush=True); time.sleep(60)")
    p = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "held"
        monkeypatch.setenv("RANK", "1")
        lock_output_dir(tmp_path)                              # another rank of the holder's launch: not refused
        unlock_output_dir(tmp_path)
        monkeypatch.setenv("RANK", "0")
        with pytest.raises(PreflightError, match=f"pid {p.pid}"):
            lock_output_dir(tmp_path)
    finally:
        p.kill(); p.wait()
    lock_output_dir(tmp_path)                                  # free again once the holder is gone
    unlock_output_dir(tmp_path)


# ---- item 3: portable records ----

def test_weights_digest_covers_what_changes_outputs_only(tiny_model_dir, tmp_path):
    from coldstart_nb.generate import model_fingerprint
    a, b = tmp_path / "a", tmp_path / "elsewhere" / "b"
    shutil.copytree(tiny_model_dir, a)
    (a / TRAINING_RECORD).write_text('{"log_history": [{"train_runtime": 1.0}]}')
    shutil.copytree(a, b)
    fa = model_fingerprint(a)
    assert str(tmp_path) not in json.dumps(fa), f"a fingerprint names where the model is: {fa}"
    (b / TRAINING_RECORD).write_text('{"log_history": [{"train_runtime": 2.0}]}')   # a bit-identical retrain's new log
    (b / "training_args.bin").write_bytes(b"output_dir=" + str(b).encode())
    assert model_fingerprint(b) == fa, "run logs are not the model"
    tc = b / "tokenizer_config.json"
    tc.write_text(tc.read_text().replace('"<|im_end|>"', '"<|endoftext|>"', 1))
    assert model_fingerprint(b)["weights"] != fa["weights"], "the tokenizer changes outputs"


def test_file_hash_cache_sees_a_same_size_rewrite_with_the_mtime_kept(tmp_path, monkeypatch):
    from coldstart_nb import generate as g
    monkeypatch.setenv("COLDSTART_NB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(g, "SETTLED_S", 0.2, raising=False)
    f = tmp_path / "model.safetensors"
    f.write_bytes(b"A" * 4096)
    time.sleep(0.3)   # past the settle time: the digest may be cached from here on
    first = g.file_sha256(f)
    st = f.stat()
    f.write_bytes(b"B" * 4096)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert f.stat().st_mtime_ns == st.st_mtime_ns and f.stat().st_size == st.st_size
    assert g.file_sha256(f) != first, "a cached digest was returned for changed content"
    g._HASH_CACHE.clear()
    assert g.file_sha256(f) != first, "the on-disk cache returned a digest for changed content"


def test_copied_project_reuses_training_and_predictions(tmp_path, monkeypatch, capsys):
    from coldstart_nb.stages import run_stage
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(ROOT / "reports" / "configs", a / "reports" / "configs")
    (a / "settings.ini").write_text((ROOT / "settings.ini").read_text())
    monkeypatch.setenv("COLDSTART_NB_ROOT", str(a))
    sft_over = {"max_steps": 2, "save_steps": 2, "eval_fraction": 0.0}
    ev_over = {"models": "sft:checkpoints/sft-tiny/final", "limit": 1, "sampled_n": 0, "max_new_tokens": 8, "grader_workers": 1,
               "compare": "", "track_pattern": ""}
    run_stage("sft", "tiny", sft_over)
    first = run_stage("eval", "tiny", ev_over)
    assert first["models"]["sft"]["greedy"]["reuse"]["generated"] > 0
    shutil.copytree(a, b, symlinks=True)
    shutil.rmtree(a)   # nothing may still point into the old folder
    weights_file = b / "checkpoints" / "sft-tiny" / "final" / "model.safetensors"
    before = weights_file.read_bytes()
    monkeypatch.setenv("COLDSTART_NB_ROOT", str(b))
    capsys.readouterr()
    run_stage("sft", "tiny", sft_over)
    assert "nothing to train" in capsys.readouterr().out
    assert weights_file.read_bytes() == before
    again = run_stage("eval", "tiny", ev_over)
    reuse = again["models"]["sft"]["greedy"]["reuse"]
    assert reuse["generated"] == 0 and reuse["reused"] == reuse["total"] > 0, reuse
    assert again["models"]["sft"]["greedy"]["scores"] == first["models"]["sft"]["greedy"]["scores"]
    for f in (b / "reports" / "predictions").rglob("*.fingerprint.json"):
        assert str(a) not in f.read_text() and str(b) not in f.read_text(), f"{f} names a location"


# ---- item 6: secrets stay out of stores, fingerprints, messages and reprs ----

KEY, USER, PASSWORD = "k3y-Zq81vQ7wPpLm", "alice", "s3cret-Pw0rd"
BASIC = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


class EchoHeaders(BaseHTTPRequestHandler):
    "A server that puts the request's headers and path into its answer (as some debug proxies do)."
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        echo = f"{self.command} {self.path}\n{self.headers}"
        if "fail" in json.dumps(body["messages"]):
            return send_json(self, {"error": echo}, 400)
        send_json(self, {"choices": [{"message": {"content": f"\\boxed{{1}} {echo}"}, "finish_reason": "stop"}] * body.get("n", 1)})

    def log_message(self, *a):
        pass


def with_credentials(url: str) -> str:
    return url.replace("http://", f"http://{USER}:{PASSWORD}@")


def leaks(text: str) -> list:
    return [s for s in (KEY, PASSWORD, BASIC, f"{USER}:{PASSWORD}") if s in text]


@pytest.mark.parametrize("creds", [False, True], ids=["key", "key+url-credentials"])
def test_no_secret_in_any_file_message_or_repr(creds, tmp_path, monkeypatch, capsys):
    from coldstart_nb.evaluate import evaluate
    from coldstart_nb.generate import GenConfig, OpenAIBackend, Request, backend_identity, generate
    from coldstart_nb.synth import make_split
    monkeypatch.setenv("TEST_API_KEY", KEY)
    items = make_split("test", 2, progress=False)[:2]
    with local_server(EchoHeaders) as url:
        be = OpenAIBackend(with_credentials(url) if creds else url, "m", api_key_env="TEST_API_KEY", max_retries=0)
        ev = evaluate(be, items, "m", GenConfig(max_new_tokens=8), store=tmp_path / "preds.jsonl", progress=False, n_boot=10)
        assert ev["reuse"]["generated"] == len(items)
        said = [repr(be), str(backend_identity(be)), json.dumps(ev, default=str)]
        with pytest.raises(RuntimeError) as e:   # the error path: the server echoes the headers in a 400 body
            generate(be, [Request("x", [{"role": "user", "content": "fail"}])], GenConfig(max_new_tokens=8), progress=False)
        said.append(str(e.value))
        assert "400" in str(e.value)
    with pytest.raises(RuntimeError) as e:       # unreachable: the URL in the message
        OpenAIBackend(with_credentials(url), "m", api_key_env="TEST_API_KEY", max_retries=0).generate_batch(
            [Request("y", [{"role": "user", "content": "hi"}])], GenConfig(max_new_tokens=8), 0)
    said.append(str(e.value))
    out = capsys.readouterr()
    said += [out.out, out.err]
    found = {i: leaks(s) for i, s in enumerate(said) if leaks(s)}
    assert not found, found
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files and any(p.name.endswith(".fingerprint.json") for p in files)
    bad = {str(p.relative_to(tmp_path)): leaks(p.read_text(errors="replace")) for p in files if leaks(p.read_text(errors="replace"))}
    assert not bad, bad
    stored = (tmp_path / "preds.jsonl").read_text()
    assert "127.0.0.1" in stored and "[redacted]" in stored, "the echo itself is kept, less the secrets"


def test_credentials_in_the_url_authenticate(monkeypatch):
    "The user and password of the URL are sent as HTTP basic auth (not as part of the host name)."
    from coldstart_nb.generate import GenConfig, OpenAIBackend, Request
    seen = []

    class Check(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(self.headers.get("Authorization"))
            send_json(self, {"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]})

        def log_message(self, *a):
            pass
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with local_server(Check) as url:
        be = OpenAIBackend(with_credentials(url), "m", max_retries=0)
        out = be.generate_batch([Request("a", [{"role": "user", "content": "hi"}])], GenConfig(max_new_tokens=4), 0)
    assert out[0][0]["text"] == "ok" and seen == [f"Basic {BASIC}"]
    assert PASSWORD not in be.base_url and be.base_url == url


# ---- item 7: damaged stores ----

def test_non_utf8_record_names_file_line_and_remedy(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_bytes(b'{"id": "a", "x": 1}\n{"id": "b", "x": "\xff\xfe"}\n')
    with pytest.raises(StoreError) as e:
        RecordStore(p)
    msg = str(e.value)
    assert f"{p}:2" in msg and "UTF-8" in msg and "remove" in msg.lower(), msg


def test_corrupt_fingerprint_names_file_and_remedy(tmp_path):
    p = tmp_path / "s.jsonl"
    with RecordStore(p, fingerprint={"model": "a"}) as st:
        st.append({"id": "a"})
    fpp = tmp_path / "s.jsonl.fingerprint.json"
    fpp.write_text('{"model": ')
    with pytest.raises(StoreError) as e:
        RecordStore(p, fingerprint={"model": "a"})
    msg = str(e.value)
    assert str(fpp) in msg and "corrupt" in msg and "fresh" in msg, msg
    fpp.write_bytes(b'{"model": "\xff"}')
    with pytest.raises(StoreError, match="fingerprint"):
        RecordStore(p, fingerprint={"model": "a"})
