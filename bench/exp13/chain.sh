#!/bin/bash
# usage: chain.sh NAME [ref] key=value ...  : train a GRPO variant then evaluate it on validation against the SFT model
set -e; cd /work/wt-exp13/exp; export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
name=$1; ref=$2; shift 2
../.venv/bin/python run_grpo.py $name grpo_exp.yaml "$@" 2>&1 | grep -v Warning > out/log-$name.txt
../.venv/bin/python eval_cmp.py checkpoints/exp13-$name/final $name --ref $ref 2>&1 | grep -v "Warning\|Loading" > out/cmp-$name.txt
