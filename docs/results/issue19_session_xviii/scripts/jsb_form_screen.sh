#!/usr/bin/env bash
# Session (xviii): JSB form plans ((xvii)'s form_plan.py) in 4-bar sections on the validation chorales, the shipped model
# and its critic as shipped (fitted on AAAA samples; MODEL_FLAG=--workdir=COPY and TAG=_refit for
# a copy whose critic form_plan_refit.py fitted on the plan), 16 bars, K 32, seeds 0-2.
#   bash docs/results/issue19_session_xviii/scripts/jsb_form_screen.sh OUT PLAN C [BARS]
set -euo pipefail
cd "$(dirname "$0")/../../../.."
OUT="$1" PLAN="$2" C="$3" BARS="${4:-16}"
mkdir -p "$OUT"
PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xvii/scripts/form_plan.py "$PLAN" "$C" \
  ${MODEL_FLAG:---pretrained=jsb_chorales} --cache=runs/jsb_plb_ship/data --split=valid --temperatures=0.7 \
  --top_ps=0.95 --guidances=1.75 --repeat_penalties=10 --candidates=32 --section_bars=4 \
  --section_correlations=0.123 --num_samples=64 --seeds=0,1,2 --bars="$BARS" \
  --json="$OUT/jsb_form_${PLAN}_${C}${TAG:-}_${BARS}bars_valid.json" > "$OUT/jsb_form_${PLAN}_${C}${TAG:-}_${BARS}bars_valid.log" 2>&1
