#!/usr/bin/env bash
# Session (xvi)'s measurements of the JSB model shipped with 4-bar sections that share one latent
# (its critic and E fitted again on such samples by the one command): the validation sweeps at
# 16 and 8 bars (the screens' rule, now with the refitted critic), then session (xv)'s test-split
# measurements (its jsb_test.sh) at these sections.
#   CACHE=runs/jsb_plb_ship/data bash docs/results/issue19_session_xvi/scripts/jsb_measure.sh OUT
set -euo pipefail
cd "$(dirname "$0")/../../../.."
OUT="$1" CACHE="${CACHE:-runs/jsb_ship/data}"
mkdir -p "$OUT"
for BARS in 16 8; do
PYTHONPATH=. .venv/bin/python launch/sampling_sweep.py --pretrained=jsb_chorales --cache="$CACHE" \
  --split=valid --temperatures=0.7 --top_ps=0.95 --guidances=1.75 --repeat_penalties=10 \
  --candidates=32 --section_bars=4 --section_correlations=1.0 --num_samples=64 --seeds=0,1,2 \
  --bars=$BARS --json="$OUT/sweep_valid_${BARS}bars.json" > "$OUT/sweep_valid_${BARS}bars.log" 2>&1
done
SECTION_BARS=4 SECTION_CORRELATION=1.0 CACHE="$CACHE" \
  bash docs/results/issue19_session_xv/scripts/jsb_test.sh "$OUT"
