#!/usr/bin/env bash
# Session (xxxvii): (xxxvi)'s rest arm (runs/p32post_register_rests) at emotion guidance 1 / 1.25 /
# 1.5 (its judge was 0.820 on the training spans, tense 0.734 under the 0.75 floor), at its own
# sampling otherwise (T 0.7, top-p 0.95, repeat penalty 1.5, K 16, 8-bar reach), against the
# VALIDATION split's 32-bar spans (where settings are chosen), seeds 0-2.
#   bash docs/results/issue19_session_xxxvii/scripts/rests_guidance_sweep.sh RUN CACHE OUT_PREFIX
set -euo pipefail
RUN="$1" CACHE="$2" OUT="$3"
PYTHONPATH=. .venv/bin/python launch/sampling_sweep.py --workdir="$RUN" --cache="$CACHE" \
  --split=valid --temperatures=0.7 --top_ps=0.95 --guidances=1.25,1.5 --repeat_penalties=1.5 \
  --candidates=16 --attention_bars=8 --bars=32 --num_samples=64 --seeds=0,1,2 \
  --json="${OUT}_guidance32_valid.json" > "${OUT}_guidance32_valid.log" 2>&1
