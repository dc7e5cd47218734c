#!/usr/bin/env bash
# Session (xii)'s test-split measurements of a JSB model at its own sampling settings: the sweep at
# 16 bars (T 0.7 and 1.0) and 8 bars over seeds 0-2, the opening windows / interpolation ends /
# transfer (launch/reconstruct_check.py), what gives its samples away, and the harness at seed 0.
#   bash docs/results/issue19_session_xii/jsb_test.sh --pretrained=jsb_chorales OUT
set -euo pipefail
cd "$(dirname "$0")/../../.."
MODEL="$1" OUT="$2" CACHE="${CACHE:-runs/jsb_ship/data}"
mkdir -p "$OUT"
run() { PYTHONPATH=. .venv/bin/python "$@"; }
SETTINGS=(--top_ps=0.95 --guidances=1.75 --repeat_penalties=10 --candidates=32 --section_bars=8
          --section_correlations=0.7 --num_samples=64 --seeds=0,1,2)
run launch/sampling_sweep.py "$MODEL" --cache="$CACHE" --split=test --temperatures=0.7,1.0 \
  "${SETTINGS[@]}" --bars=16 --json="$OUT/sweep_test_16bars.json" > "$OUT/sweep_test_16bars.log" 2>&1
run launch/sampling_sweep.py "$MODEL" --cache="$CACHE" --split=test --temperatures=0.7 \
  "${SETTINGS[@]}" --bars=8 --json="$OUT/sweep_test_8bars.json" > "$OUT/sweep_test_8bars.log" 2>&1
run launch/reconstruct_check.py "$MODEL" --cache="$CACHE" --temperatures=0.0001,0.7 \
  --json="$OUT/reconstruct_check.json" > "$OUT/reconstruct_check.log" 2>&1
run launch/giveaway_check.py --models="${MODEL#--pretrained=}" --cache="$CACHE" --split=test \
  --bars=8,16 --json="$OUT/giveaway_test.json" > "$OUT/giveaway_test.log" 2>&1
.venv/bin/hrnnvae-eval --workdirs="hrnnvae/pretrained/${MODEL#--pretrained=}" --dataset_cache="$CACHE" \
  --num_samples=64 --seeds=0 --bars=16 --realism_bars=8,16 --out="$OUT/harness" > "$OUT/harness.log" 2>&1
