#!/bin/bash
# SFT reference on validation, then GRPO (lr 3e-5, SFT prompt, frozen vision) for 120 steps, each 40-step checkpoint compared with SFT
set -e; cd "$(dirname "$0")/../.."; source .venv/bin/activate
export OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1 PYTHONPATH=bench/exp13
O=exp/out; mkdir -p $O
python bench/exp13/eval_cmp.py checkpoints/sft-default/final sft --per_family 120 --n 8 --noref 2>&1 | grep -v "Warn\|Loading" > $O/ref-sft.txt
python bench/exp13/run_grpo.py long bench/exp13/grpo_exp.yaml rl_system=SFT lr=3.0e-5 freeze_vision=true max_steps=120 save_steps=40 2>&1 | grep -v Warn > $O/log-long.txt
for s in 40 80 120; do
  python bench/exp13/eval_cmp.py checkpoints/exp13-long/checkpoint-$s long$s --ref sft --per_family 120 --n 8 --ref_sampled eval/sft-T0.7-n8.json 2>&1 | grep -v "Warn\|Loading" > $O/cmp-long$s.txt
done
