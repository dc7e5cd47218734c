#!/usr/bin/env bash
# Session (xxx): a fine-tuned run's prior samples against the training tunes, as (xxvii)-(xxix)
# measured the shipped Nottingham model: the feature classifier against twenty draws of training
# tunes the test split's size (seeds 0-2, 32 bars; draws_by_family.py), then the sampling sweep (seed 0; time)
# at the run's own sampling against all 944 training spans of 32 bars (realism, the judge, bar
# repetition, phrase similarity).
#   bash docs/results/issue19_session_xxx/scripts/screen.sh RUN CACHE OUT_PREFIX
set -euo pipefail
RUN="$1" CACHE="$2" OUT="$3"
export PYTHONPATH=.
.venv/bin/python docs/results/issue19_session_xxix/scripts/draws_by_family.py \
  "$CACHE" "$RUN/export" 32 0,1,2 64 20 > "${OUT}_draws32.log" 2>&1
.venv/bin/python launch/sampling_sweep.py --workdir="$RUN" --cache="$CACHE" --split=train \
  --temperatures=0.7 --top_ps=0.95 --repeat_penalties=1.5 --candidates=16 --attention_bars=8 \
  --bars=32 --num_samples=64 --seeds=0 --json="${OUT}_sweep32_train.json" \
  > "${OUT}_sweep32_train.log" 2>&1
