#!/usr/bin/env bash
# Session (xix): a JSB fine-tune screen (a run of the one command with the adapters off and no
# shipping) measured as the shipped model's validation figures are: the sampling sweeps at 16
# and 8 bars at the shipped sampling (seeds 0-2, K 32, 4-bar sections sharing one latent; the
# run's own sampling settings, tense at guidance 1.5, its own critic and E).
#   bash docs/results/issue19_session_xix/scripts/jsb_screen_measure.sh RUN OUT [SPLIT] [T]
# T: the sampling temperature (0.7, the shipped model's until (xx)).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
RUN="$1" OUT="$2" SPLIT="${3:-valid}" TEMPERATURE="${4:-0.7}"
mkdir -p "$OUT"
for BARS in 16 8; do
  PYTHONPATH=. .venv/bin/python launch/sampling_sweep.py --workdir="$RUN" --cache="$RUN/data" \
    --split="$SPLIT" --temperatures="$TEMPERATURE" --top_ps=0.95 --guidances=1.75 --repeat_penalties=10 \
    --candidates=32 --section_bars=4 --section_correlations=1.0 --num_samples=64 --seeds=0,1,2 \
    --bars=$BARS --json="$OUT/sweep_${SPLIT}_${BARS}bars.json" > "$OUT/sweep_${SPLIT}_${BARS}bars.log" 2>&1
done
