#!/usr/bin/env bash
# Session (xxxvii): (xxxvi)'s rest arm at repeat penalties 1 / 1.25 (its own 1.5 was chosen when
# samples repeated notes twice as often as the tunes; the arm repeats them 0.111 against the
# training tunes' 0.119, and its first giveaway is 4-gram repetition, 0.509 against 0.603), at
# guidance 1.25 (the validation sweep's choice, rests_guidance_sweep.sh), T 0.7, top-p 0.95, K 16,
# 8-bar reach; the validation split's 32-bar spans, seeds 0-2.
#   bash docs/results/issue19_session_xxxvii/scripts/rests_repeat_sweep.sh RUN CACHE OUT_PREFIX
set -euo pipefail
RUN="$1" CACHE="$2" OUT="$3"
PYTHONPATH=. .venv/bin/python launch/sampling_sweep.py --workdir="$RUN" --cache="$CACHE" \
  --split=valid --temperatures=0.7 --top_ps=0.95 --guidances=1.25 --repeat_penalties=1,1.25 \
  --candidates=16 --attention_bars=8 --bars=32 --num_samples=64 --seeds=0,1,2 \
  --json="${OUT}_repeat32_valid.json" > "${OUT}_repeat32_valid.log" 2>&1
