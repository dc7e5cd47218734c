#!/usr/bin/env bash
# Session (xv)'s test-split measurements of the JSB model shipped with the repetition critic: as
# docs/results/issue19_session_xii/jsb_test.sh less reconstruct_check (the critic changes only
# which prior samples are kept): the sweeps at 16 bars (T 0.7 and 1.0) and 8 bars over seeds 0-2,
# what gives its samples away, and the harness at seed 0.
#   CACHE=runs/jsb_plb_ship/data bash docs/results/issue19_session_xv/scripts/jsb_test.sh OUT
set -euo pipefail
cd "$(dirname "$0")/../../../.."
OUT="$1" CACHE="${CACHE:-runs/jsb_ship/data}" MODEL=--pretrained=jsb_chorales
mkdir -p "$OUT"
run() { PYTHONPATH=. .venv/bin/python "$@"; }
# SECTION_BARS / SECTION_CORRELATION: another model's sections (default: (xv)'s shipped 8 and 0.7).
SETTINGS=(--top_ps=0.95 --guidances=1.75 --repeat_penalties=10 --candidates=32
          --section_bars="${SECTION_BARS:-8}" --section_correlations="${SECTION_CORRELATION:-0.7}"
          --num_samples=64 --seeds=0,1,2)
run launch/sampling_sweep.py "$MODEL" --cache="$CACHE" --split=test --temperatures=0.7,1.0 \
  "${SETTINGS[@]}" --bars=16 --json="$OUT/sweep_test_16bars.json" > "$OUT/sweep_test_16bars.log" 2>&1
run launch/sampling_sweep.py "$MODEL" --cache="$CACHE" --split=test --temperatures=0.7 \
  "${SETTINGS[@]}" --bars=8 --json="$OUT/sweep_test_8bars.json" > "$OUT/sweep_test_8bars.log" 2>&1
run launch/giveaway_check.py --models=jsb_chorales --cache="$CACHE" --split=test \
  --bars=8,16 --json="$OUT/giveaway_test.json" > "$OUT/giveaway_test.log" 2>&1
.venv/bin/hrnnvae-eval --workdirs=hrnnvae/pretrained/jsb_chorales --dataset_cache="$CACHE" \
  --num_samples=64 --seeds=0 --bars=16 --realism_bars=8,16 --out="$OUT/harness" > "$OUT/harness.log" 2>&1
