#!/bin/bash
cd /work/wt-exp13/exp; export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
for k in 1 2; do OMP_NUM_THREADS=$k MKL_NUM_THREADS=$k ../.venv/bin/python threads.py gen checkpoints/sft-default/final; done
for k in 1 2; do rm -rf ../checkpoints/exp13-threads-$k; OMP_NUM_THREADS=$k MKL_NUM_THREADS=$k ../.venv/bin/python threads.py grpo checkpoints/sft-default/final > out/threads-grpo-$k.log 2>&1; done
OMP_NUM_THREADS=1 ../.venv/bin/python threads.py cmp
