#!/usr/bin/env bash
# Session (xxxvii): a rest arm at emotion guidances GUIDANCES (default 1.25,1.5), at its own
# sampling otherwise (T 0.7, top-p 0.95, repeat penalty 1.5, K 16, 8-bar reach), against the
# VALIDATION split's 32-bar spans (where settings are chosen), seeds 0-2. Run on (xxxvi)'s rest
# arm (runs/p32post_register_rests: judge 0.820 on the training spans, tense 0.734 under the
# 0.75 floor) with the default, and on the arm at emotion weight 3 (runs/p32post_rests_emo3:
# judge 0.906, less real) with 0.75,1.
#   bash docs/results/issue19_session_xxxvii/scripts/rests_guidance_sweep.sh RUN CACHE OUT_PREFIX [GUIDANCES]
set -euo pipefail
RUN="$1" CACHE="$2" OUT="$3" GUIDANCES="${4:-1.25,1.5}"
PYTHONPATH=. .venv/bin/python launch/sampling_sweep.py --workdir="$RUN" --cache="$CACHE" \
  --split=valid --temperatures=0.7 --top_ps=0.95 --guidances="$GUIDANCES" --repeat_penalties=1.5 \
  --candidates=16 --attention_bars=8 --bars=32 --num_samples=64 --seeds=0,1,2 \
  --json="${OUT}_guidance32_valid.json" > "${OUT}_guidance32_valid.log" 2>&1
