#!/usr/bin/env bash
# Session (xxxvii): a run's sampling settings swept against the VALIDATION split's 32-bar spans
# (where settings are chosen, issue 19 item 4) by realism and the judge together, seeds 0-2, at
# the rest arms' own sampling (T 0.7, top-p 0.95, repeat penalty 1.5, K 16, 8-bar reach) unless
# FLAGS (sampling_sweep's own) say otherwise; writes OUT_PREFIX_NAME32_valid.{log,json}.
#   bash docs/results/issue19_session_xxxvii/scripts/valid_sweep.sh RUN CACHE OUT_PREFIX NAME [FLAGS]
# This session's calls (RUN runs/p32post_register_rests unless said; OUT_PREFIX
# docs/results/issue19_session_xxxvii/RUN's name):
#   sweep     --temperatures=0.7,0.85,1.0 --top_ps=0.95,1.0
#   guidance  --guidances=1.25,1.5
#   repeat    --guidances=1.25 --repeat_penalties=1,1.25
#   guidance  --guidances=0.75,1   (RUN runs/p32post_rests_emo3)
#   own       (nothing more; RUN runs/p32post_rests_emo25)
#   guidance  --guidances=1.25,1.5   (RUN runs/p32post_rests_emo25)
# and one through (xvii)'s per-quadrant guidance prototype (the rest arm; happy, tense, sad, calm):
#   PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xvii/scripts/quadrant_guidance.py \
#     1.25,1.75,1.75,1.25 --workdir=runs/p32post_register_rests --cache=runs/nott_data \
#     --split=valid --temperatures=0.7 --top_ps=0.95 --repeat_penalties=1.5 --candidates=16 \
#     --attention_bars=8 --bars=32 --num_samples=64 --seeds=0,1,2 --guidances=1 \
#     --json=OUT_PREFIX_quadrants32_valid.json > OUT_PREFIX_quadrants32_valid.log
set -euo pipefail
RUN="$1" CACHE="$2" OUT="$3" NAME="$4"
PYTHONPATH=. .venv/bin/python launch/sampling_sweep.py --workdir="$RUN" --cache="$CACHE" \
  --split=valid --temperatures=0.7 --top_ps=0.95 --repeat_penalties=1.5 --candidates=16 \
  --attention_bars=8 --bars=32 --num_samples=64 --seeds=0,1,2 "${@:5}" \
  --json="${OUT}_${NAME}32_valid.json" > "${OUT}_${NAME}32_valid.log" 2>&1
