#!/usr/bin/env bash
# Session (xl): (xxxvi)'s rest arm rebuilt from (xxxiii)'s step-9000 state (runs/p32post_spans_grams,
# made again this session from runs/phr_elbo by fine_tune_spans_grams.sh) to step 10000
# (fine_tune_form_long.sh at form weight 2, with the register and rest columns), FLAGS added;
# then (xxx)'s screen (draws of training tunes, the training spans' sweep), what gives the
# samples away, and the phrases' similarity by distance (phrase_structure.py), all written to
# docs/results/issue19_session_xl/.
#   bash docs/results/issue19_session_xl/scripts/period_arm.sh ARM [FLAGS]
# This session's two, side by side (each logged to runs/chain40.log):
#   period_arm.sh rests_control                                         (the rest arm: the control)
#   period_arm.sh rests_periods --config.loss.realism_phrase_periods=True
set -euo pipefail
cd "$(dirname "$0")/../../../.."
OUT=docs/results/issue19_session_xl
ARM="$1"
echo "$ARM start $(date)" >> runs/chain40.log
bash docs/results/issue19_session_xxxv/scripts/fine_tune_form_long.sh runs/nott_data 10000 "$ARM" 2.0 \
  --config.loss.realism_register=True --config.loss.realism_rests=True "${@:2}"
echo "$ARM trained $(date)" >> runs/chain40.log
bash docs/results/issue19_session_xxx/scripts/screen.sh "runs/$ARM" runs/nott_data "$OUT/$ARM"
echo "$ARM screened $(date)" >> runs/chain40.log
PYTHONPATH=. .venv/bin/python launch/giveaway_check.py --cache=runs/nott_data --split=train \
  --models="runs/$ARM/export" --bars=32 \
  --json="$OUT/giveaways32_train_$ARM.json" > "$OUT/giveaways32_train_$ARM.log" 2>&1
PYTHONPATH=. .venv/bin/python "$OUT/scripts/phrase_structure.py" runs/nott_data \
  "runs/$ARM/export" 32 0 64 > "$OUT/phrase_structure_$ARM.log" 2>&1
echo "$ARM giveaways $(date)" >> runs/chain40.log
