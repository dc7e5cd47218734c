#!/usr/bin/env bash
# Session (xviii): emotion by choice (emotion_by_choice.py) on the validation chorales, the
# shipped JSB sampling otherwise (K 32, 4-bar sections at c 1), 16 bars, seeds 0-2.
#   W=5 G=1.25 [QG=0,0,0,0] [BARS=16] [SPLIT=valid] bash .../choice_screen.sh OUT
set -euo pipefail
cd "$(dirname "$0")/../../../.."
OUT="$1" BARS="${BARS:-16}" SPLIT="${SPLIT:-valid}"
mkdir -p "$OUT"
NAME="jsb_choice_W${W}_G${G}_${BARS}bars_${SPLIT}"
W="$W" QG="${QG:-0,0,0,0}" PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xviii/scripts/emotion_by_choice.py \
  --pretrained=jsb_chorales --cache=runs/jsb_plb_ship/data --split="$SPLIT" --temperatures=0.7 \
  --top_ps=0.95 --guidances="$G" --repeat_penalties=10 --candidates=32 --section_bars=4 \
  --section_correlations=1.0 --num_samples=64 --seeds=0,1,2 --bars="$BARS" \
  --json="$OUT/$NAME.json" > "$OUT/$NAME.log" 2>&1
