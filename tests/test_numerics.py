"""Reproducible CPU numerics: the kernel pins take effect in the processes the pipeline starts, and a training step
gives the same bits with 1 and 2 threads under them (issue 13: a fresh clone on another machine gave other numbers)."""
import os
import platform
import subprocess
import sys

import pytest

from coldstart_nb import cli
from coldstart_nb.core import CPU_NUMERICS_PINS

X86 = platform.machine().lower() in ("x86_64", "amd64")

# Three AdamW steps of the tiny Qwen2.5-VL on fixed token ids; prints the kernel level torch uses and a digest of the
# weights' bytes afterwards.
CHILD = r"""
import hashlib, sys, torch
torch.set_num_threads(int(sys.argv[2]))
from coldstart_nb.models import load_model
torch.manual_seed(0)
m = load_model(sys.argv[1]).float().train()
opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
ids = torch.randint(5, m.config.text_config.vocab_size - 5, (4, 48))
for _ in range(3):
    loss = m(input_ids=ids, labels=ids).loss
    loss.backward(); opt.step(); opt.zero_grad()
h = hashlib.sha256()
for n, p in sorted(m.state_dict().items()): h.update(n.encode()); h.update(p.detach().contiguous().numpy().tobytes())
print(torch.backends.cpu.get_cpu_capability(), h.hexdigest())
"""


def _child(model_dir, threads: int, pinned: bool) -> tuple[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CPU_NUMERICS_PINS}
    if pinned: env.update(CPU_NUMERICS_PINS)
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    r = subprocess.run([sys.executable, "-c", CHILD, str(model_dir), str(threads)], env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    cap, digest = r.stdout.split()[-2:]
    return cap, digest


@pytest.mark.skipif(not X86, reason="the pins are x86-64 instruction-set levels")
def test_pinned_kernels_take_effect_and_threads_do_not_change_a_bit(tiny_model_dir):
    native_cap, _ = _child(tiny_model_dir, 1, pinned=False)
    if native_cap not in ("AVX2", "AVX512", "AVX512_VNNI", "AVX512_BF16", "AMX"):
        pytest.skip(f"this CPU runs torch's {native_cap} kernels; the AVX2 pin does not apply")
    cap1, d1 = _child(tiny_model_dir, 1, pinned=True)
    cap2, d2 = _child(tiny_model_dir, 2, pinned=True)
    assert cap1 == cap2 == "AVX2"          # torch obeys ATEN_CPU_CAPABILITY in a fresh process
    assert d1 == d2                        # 1 and 2 threads: bit-identical weights after three optimizer steps


def test_reproduce_pins_the_kernels_before_it_starts_a_notebook(monkeypatch, tmp_path):
    for k in CPU_NUMERICS_PINS: monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("MKL_CBWR", "AUTO")          # a user's own choice wins
    seen, times = {}, {}

    def fake_run_notebook(step, preset, overrides):
        seen.update({k: os.environ.get(k) for k in CPU_NUMERICS_PINS})
        return cli.project_path("reports", "runs")/"fake.ipynb"

    monkeypatch.setattr(cli, "run_notebook", fake_run_notebook)
    monkeypatch.setattr(cli, "record_times", lambda preset, s: times.update({preset: s}))
    monkeypatch.setattr(cli, "summarize", lambda preset: "")
    cli.reproduce_main(["--stages", "data"])
    if X86: assert seen == {**CPU_NUMERICS_PINS, "MKL_CBWR": "AUTO"}
    else: assert seen == {k: None for k in CPU_NUMERICS_PINS} | {"MKL_CBWR": "AUTO"}
    assert list(times) == ["embedded"] and list(times["embedded"]) == ["data"] and times["embedded"]["data"] >= 0


def test_results_record_the_pins(monkeypatch):
    from coldstart_nb.core import run_metadata
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx2")
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    pins = run_metadata()["cpu"]["pins"]
    assert pins["ATEN_CPU_CAPABILITY"] == "avx2" and pins["ONEDNN_MAX_CPU_ISA"] is None
    assert set(pins) == set(CPU_NUMERICS_PINS)


def test_same_results_ignores_timings_and_paths_but_not_numbers(tmp_path):
    import json
    from conftest import ROOT
    run = lambda acc, sec, path: {"stage": "eval", "run": "embedded", "meta": {"time_utc": sec},
                                  "results": {"summary": {"sft/greedy": acc, "seconds": sec}, "models": {"sft": {"path": path}},
                                              "perf": {"perf/throughput": sec * 3, "perf/mfu_actor": sec / 100}}}
    for d, acc, sec, path in (("a", 31.5, 10.0, "/home/a/ckpt"), ("b", 31.5, 99.0, "/work/b/ckpt"), ("c", 30.0, 10.0, "/x")):
        (tmp_path / d).mkdir()
        (tmp_path / d / "eval_embedded.json").write_text(json.dumps(run(acc, sec, path)))
    tool = [sys.executable, str(ROOT / "tools" / "same_results.py")]
    same = subprocess.run(tool + [str(tmp_path / "b"), "--ours", str(tmp_path / "a")], capture_output=True, text=True)
    assert same.returncode == 0 and "identical" in same.stdout
    other = subprocess.run(tool + [str(tmp_path / "c"), "--ours", str(tmp_path / "a")], capture_output=True, text=True)
    assert other.returncode == 1 and "summary.sft/greedy: 31.5 vs 30.0" in other.stdout


def test_same_results_compares_across_a_rename(tmp_path):
    "`--other-run`: a run renamed between two results folders (e.g. the preset 'default' that became 'embedded') is still compared."
    import json
    from conftest import ROOT
    for d, name in (("a", "embedded"), ("b", "default")):
        (tmp_path / d).mkdir()
        (tmp_path / d / f"eval_{name}.json").write_text(json.dumps({"stage": "eval", "results": {"summary": {"x": 1.0}}}))
    tool = [sys.executable, str(ROOT / "tools" / "same_results.py")]
    r = subprocess.run(tool + [str(tmp_path / "b"), "--ours", str(tmp_path / "a"), "--other-run", "default"], capture_output=True, text=True)
    assert r.returncode == 0 and "eval_embedded.json: identical" in r.stdout, r.stdout + r.stderr
    r = subprocess.run(tool + [str(tmp_path / "b"), "--ours", str(tmp_path / "a")], capture_output=True, text=True)
    assert r.returncode == 1 and "missing" in r.stdout
