#!/usr/bin/env bash
# Session (xviii): the JSB one command from an empty run folder (RUN), measured as the shipped
# model is: the test sweeps at 16 and 8 bars (seeds 0-2, the shipped sampling), the validation
# sweep at 16 bars, and transfer and reconstruction on the test windows at the shipped transfer
# settings (shift 0, keep 1.5; the run started before they were the recipe's).
#   bash docs/results/issue19_session_xviii/scripts/fresh_jsb_measure.sh RUN OUT
set -euo pipefail
cd "$(dirname "$0")/../../../.."
RUN="$1" OUT="$2"
mkdir -p "$OUT"
run() { PYTHONPATH=. .venv/bin/python "$@"; }
SETTINGS=(--top_ps=0.95 --guidances=1.75 --repeat_penalties=10 --candidates=32 --section_bars=4
          --section_correlations=1.0 --num_samples=64 --seeds=0,1,2 --temperatures=0.7)
for SPLIT_BARS in test:16 test:8 valid:16; do
  SPLIT="${SPLIT_BARS%%:*}" BARS="${SPLIT_BARS##*:}"
  run launch/sampling_sweep.py --workdir="$RUN" --cache="$RUN/data" --split="$SPLIT" "${SETTINGS[@]}" \
    --bars="$BARS" --json="$OUT/sweep_${SPLIT}_${BARS}bars.json" > "$OUT/sweep_${SPLIT}_${BARS}bars.log" 2>&1
done
for SEED in 0 1 2; do
  run launch/reconstruct_check.py --workdir="$RUN" --cache="$RUN/data" --temperatures=0.0001,0.7 \
    --transfer_shift=0 --transfer_keep=1.5 --seed="$SEED" --json="$OUT/reconstruct_seed$SEED.json" \
    > "$OUT/reconstruct_seed$SEED.log" 2>&1
done
