"""Shared fixtures for the integration tests (no network, no GPU)."""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
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
