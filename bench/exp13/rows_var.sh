#!/bin/bash
# GRPO variants from the rows-mix SFT model: NAME key=value ...; evaluated on validation against that SFT model
set -e; cd "$(dirname "$0")/../.."; source .venv/bin/activate
export OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1 PYTHONPATH=bench/exp13
P=$1; NAME=$2; shift 2; O=exp/out
python bench/exp13/run_grpo.py $NAME bench/exp13/grpo_exp.yaml model=checkpoints/exp-sft-rows$P/final rl_system=SFT freeze_vision=true save_steps=100 track_pattern="row by row" "$@" 2>&1 | grep -v Warn > $O/log-$NAME.txt
python bench/exp13/eval_cmp.py checkpoints/exp13-$NAME/final $NAME --ref sftrows$P --per_family 120 --n 8 --ref_sampled eval/sftrows$P-T0.7-n8.json 2>&1 | grep -v "Warn\|Loading" > $O/cmp-$NAME.txt
python bench/exp13/strategy.py $NAME-greedy.json $NAME-T0.7-n8.json >> $O/cmp-$NAME.txt
