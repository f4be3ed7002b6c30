"""Shared fixtures for the integration tests (no network, no GPU)."""
import contextlib
import json
import os
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
import coldstart_nb.stages  # noqa: E402,F401  (every stage registers its recipe)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A tiny random-init Qwen2.5-VL saved in hub layout, built once per session."""
    from coldstart_nb.models import build_tiny_model
    from coldstart_nb.synth import make_split, solve
    d = tmp_path_factory.mktemp("tiny-model")
    train = make_split("train", 20, progress=False)
    build_tiny_model([s.question for s in train] + [solve(s) for s in train], "tiny", out_dir=d)
    return d


def send_json(handler, obj, code: int = 200):
    "Answer an http.server request with a JSON body."
    out = json.dumps(obj).encode()
    handler.send_response(code); handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(out))); handler.end_headers(); handler.wfile.write(out)


@contextlib.contextmanager
def local_server(handler_cls):
    "Serve `handler_cls` on a free loopback port for the duration; yields the OpenAI-style base URL."
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try: yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    finally: srv.shutdown(); srv.server_close()


@pytest.fixture
def scratch_root(tmp_path, monkeypatch):
    """A project root as a fresh checkout has it (the real configs and notebooks; no data, models, checkpoints or results), set as
    `COLDSTART_NB_ROOT` for this process and the processes it starts; a test may add presets."""
    import shutil
    shutil.copytree(ROOT / "reports" / "configs", tmp_path / "reports" / "configs")
    (tmp_path / "nbs").symlink_to(ROOT / "nbs")
    (tmp_path / "settings.ini").write_text((ROOT / "settings.ini").read_text())
    monkeypatch.setenv("COLDSTART_NB_ROOT", str(tmp_path))
    return tmp_path
