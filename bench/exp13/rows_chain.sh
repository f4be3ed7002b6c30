#!/bin/bash
# SFT on a rows/whole-count mix, GRPO from it, both evaluated on validation with the share of row-wise responses
set -e; cd "$(dirname "$0")/../.."; source .venv/bin/activate
export OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1 PYTHONPATH=bench/exp13
P=$1; LR=$2; O=exp/out
[ -d data/cot/default/hf/distilled-rows$P ] || python bench/exp13/rowsdata.py data/cot/default/hf/distilled data/cot/default/hf/distilled-rows$P 0.$P > $O/rowsdata$P.txt 2>&1
[ -d checkpoints/exp-sft-rows$P/final ] || coldstart-train sft --preset default --no-results data=data/cot/default/hf/distilled-rows$P output_dir=checkpoints/exp-sft-rows$P > $O/sft-rows$P.txt 2>&1
[ -f $O/eval/sftrows$P-greedy.json ] || python bench/exp13/eval_cmp.py checkpoints/exp-sft-rows$P/final sftrows$P --per_family 120 --n 8 --noref 2>&1 | grep -v "Warn\|Loading" > $O/ref-sftrows$P.txt
python bench/exp13/run_grpo.py rows$P-lr$LR bench/exp13/grpo_exp.yaml model=checkpoints/exp-sft-rows$P/final rl_system=SFT lr=$LR freeze_vision=true max_steps=40 save_steps=100 2>&1 | grep -v Warn > $O/log-rows$P-lr$LR.txt
python bench/exp13/eval_cmp.py checkpoints/exp13-rows$P-lr$LR/final rows$P-lr$LR --ref sftrows$P --per_family 120 --n 8 --ref_sampled eval/sftrows$P-T0.7-n8.json 2>&1 | grep -v "Warn\|Loading" > $O/cmp-rows$P-lr$LR.txt
