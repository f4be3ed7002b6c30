"""The engine lane (`make test-engines`): the real vLLM (its CPU build) and DeepSpeed, in their own venv (.venv-engines,
set up by tools/engines_venv.sh). Engines run in worker scripts started here (vLLM spawns processes; DeepSpeed runs
under `accelerate launch`), and the tests read what the workers wrote. No network: everything is built offline."""
import os
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "COLDSTART_NB_ROOT": str(ROOT),
       "TORCH_EXTENSIONS_DIR": os.environ.get("TORCH_EXTENSIONS_DIR", str(Path("~/.cache/coldstart-nb/torch_extensions").expanduser())),
       "VLLM_LOGGING_LEVEL": "WARNING", "PYTHONWARNINGS": "ignore"}
HANG_GUARD = 3600   # seconds: a generous bound against a hung engine (the rehearsal takes 6 min idle), never a speed check


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], env: dict | None = None, cwd: Path = ROOT) -> str:
    "Run a worker; its output on failure."
    p = subprocess.run(cmd, capture_output=True, text=True, env={**ENV, **(env or {})}, cwd=cwd, timeout=HANG_GUARD)
    log = p.stdout + p.stderr
    assert p.returncode == 0, log[-6000:]
    return log


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    "A tiny random-init Qwen2.5-VL in hub layout (a random init samples vision tokens: the case the suppression is for)."
    from coldstart_nb.models import build_tiny_model
    from coldstart_nb.synth import make_split, solve
    d = tmp_path_factory.mktemp("tiny-model")
    train = make_split("train", 20, progress=False)
    build_tiny_model([s.question for s in train] + [solve(s) for s in train], "tiny", out_dir=d)
    return d


@pytest.fixture(scope="session")
def embedded():
    "The embedded default's data and models (built offline once)."
    from coldstart_nb.embedded import ensure_embedded
    ensure_embedded(progress=False)
    return ROOT
