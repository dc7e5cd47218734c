#!/usr/bin/env bash
# Session (xl): (xxxvi)'s rest arm rebuilt from (xxxiii)'s step-9000 state (runs/p32post_spans_grams,
# made again this session from runs/phr_elbo by fine_tune_spans_grams.sh) to step 10000, FLAGS
# added, screened: (xxxvii)'s arm_and_screen.sh (fine_tune_form_long.sh at form weight 2 with the
# register and rest columns; (xxx)'s screen; what gives the samples away), then the phrases'
# similarity by distance (phrase_structure.py), all written to docs/results/issue19_session_xl/.
#   bash docs/results/issue19_session_xl/scripts/period_arm.sh ARM [FLAGS]
# This session's two, side by side (each logged to runs/chain40.log):
#   period_arm.sh rests_control                                         (the rest arm: the control)
#   period_arm.sh rests_periods --config.loss.realism_phrase_periods=True
# (run as an earlier form of this script that held arm_and_screen.sh's commands itself.)
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export OUT=docs/results/issue19_session_xl CHAIN=runs/chain40.log
bash docs/results/issue19_session_xxxvii/scripts/arm_and_screen.sh "$@"
PYTHONPATH=. .venv/bin/python "$OUT/scripts/phrase_structure.py" runs/nott_data \
  "runs/$1/export" 32 0 64 > "$OUT/phrase_structure_$1.log" 2>&1
echo "$1 phrases $(date)" >> "$CHAIN"
