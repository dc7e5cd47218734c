#!/usr/bin/env bash
# Session (xvii): the emotion-weighted choice screened on the validation chorales, 16 bars, the
# shipped sampling (K 32, 4-bar sections), seeds 0-2. NAME W [PLAN] [MODEL_FLAG] env.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
O=docs/results/issue19_session_xvii
MODEL_FLAG="${MODEL_FLAG:---pretrained=jsb_chorales}"
BARS="${BARS:-16}"
CORR="${CORR:-1.0}"
W="$W" PLAN="${PLAN:-}" PYTHONPATH=. .venv/bin/python $O/scripts/emotion_weighted_choice.py \
  $MODEL_FLAG --cache=runs/jsb_plb_ship/data --split=${SPLIT:-valid} --temperatures=0.7 \
  --top_ps=0.95 --guidances=${G:-1.75} --repeat_penalties=10 --candidates=${K:-32} --section_bars=4 \
  --section_correlations=$CORR --num_samples=64 --seeds=${SEEDS:-0,1,2} --bars=$BARS \
  --json=$O/$NAME.json > $O/$NAME.log 2>&1
