#!/bin/bash
# RL-only: evaluate the base model (its val records become the reference), GRPO from base, evaluate vs base
set -e; cd /work/wt-exp13/exp; export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
../.venv/bin/python eval_cmp.py checkpoints/base-default/final base --ref sft 2>&1 | grep -v "Warning\|Loading" > out/cmp-base.txt
name=$1; shift
../.venv/bin/python run_grpo.py $name grpo_exp.yaml model=checkpoints/base-default/final "$@" 2>&1 | grep -v Warning > out/log-$name.txt
../.venv/bin/python eval_cmp.py checkpoints/exp13-$name/final $name --ref base --ref_sampled eval/base-T0.7-n8.json 2>&1 | grep -v "Warning\|Loading" > out/cmp-$name.txt
