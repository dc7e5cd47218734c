#!/usr/bin/env bash
# Session (xli): a run's sampling temperature chosen as the project chooses settings, on the
# validation split by realism and the judge together (launch/sampling_sweep.py; 32 bars, seed 0,
# 64 a quadrant, the rest at the run's own sampling: top-p 0.95, repeat penalty 1.5, K 16,
# 8-bar reach).
#   bash docs/results/issue19_session_xli/scripts/valid_temperature_sweep.sh RUN NAME
set -euo pipefail
cd "$(dirname "$0")/../../../.."
OUT=docs/results/issue19_session_xli
PYTHONPATH=. .venv/bin/python launch/sampling_sweep.py --workdir="$1" --cache=runs/nott_data \
  --split=valid --temperatures=0.7,0.85,1.0 --top_ps=0.95 --repeat_penalties=1.5 \
  --candidates=16 --attention_bars=8 --bars=32 --num_samples=64 --seeds=0 \
  --json="$OUT/${2}_sweep32_valid.json" > "$OUT/${2}_sweep32_valid.log" 2>&1
