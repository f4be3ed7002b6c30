"""The library and every module import on a CPU machine without vLLM, torchvision, deepspeed or flash-attn."""
import importlib
import pkgutil
import subprocess
import sys

import coldstart_nb

MODULES = sorted(m.name for m in pkgutil.iter_modules(coldstart_nb.__path__) if not m.name.startswith("_"))
BLOCK = ["vllm", "torchvision", "deepspeed", "flash_attn"]


def test_every_module_imports_with_gpu_packages_blocked():
    # a fresh interpreter in which importing any GPU-only package fails, and CUDA is hidden
    code = f"""
import sys, importlib
for name in {BLOCK!r}: sys.modules[name] = None   # as if not installed: import fails, find_spec returns None
for m in {MODULES!r}: importlib.import_module('coldstart_nb.' + m)
import torch; assert not torch.cuda.is_available()
print('ok', len({MODULES!r}))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"CUDA_VISIBLE_DEVICES": "", "PATH": "/usr/bin:/bin",
                                                                                       "HF_HUB_OFFLINE": "1"})
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.startswith("ok")


def test_expected_modules_exist():
    assert {"core", "data", "synth", "prompts", "models", "embedded", "generate", "pipeline", "train", "sft", "grpo"} <= set(MODULES)
