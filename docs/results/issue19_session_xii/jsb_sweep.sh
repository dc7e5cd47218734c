#!/usr/bin/env bash
# Session (xii)'s JSB screen: the shipped JSB sampling (T 0.7, top-p 0.95, emotion guidance 1.5,
# repeat penalty 10, K 32 by the critic, two 8-bar sections at correlation 0.7), 64
# samples an emotion, seeds 0-2, 16 bars, against a split's real chorales.
#   bash docs/results/issue19_session_xii/jsb_sweep.sh NAME --pretrained=jsb_chorales [valid|test]
#   bash docs/results/issue19_session_xii/jsb_sweep.sh plb --workdir=runs/jsb_plb [valid|test]
set -euo pipefail
cd "$(dirname "$0")/../../.."
NAME="$1" MODEL="$2" SPLIT="${3:-valid}" CACHE="${CACHE:-runs/jsb_ship/data}"
OUT=docs/results/issue19_session_xii
PYTHONPATH=. .venv/bin/python launch/sampling_sweep.py "$MODEL" --cache="$CACHE" --split="$SPLIT" \
  --temperatures=0.7 --top_ps=0.95 --guidances=1.5 --repeat_penalties=10 --candidates=32 \
  --section_bars=8 --section_correlations=0.7 --bars=16 --num_samples=64 --seeds=0,1,2 \
  --json=$OUT/jsb_${NAME}_16bars_${SPLIT}.json > $OUT/jsb_${NAME}_16bars_${SPLIT}.log 2>&1
