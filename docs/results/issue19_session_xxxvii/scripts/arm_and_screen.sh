#!/usr/bin/env bash
# Session (xxxvii): a rest arm (xxxv)'s register arm with (xxxvi)'s rest-share column, from
# (xxxiii)'s step-9000 state to 10,000 steps, fine_tune_form_long.sh at form weight 2) with FLAGS
# added, then its screen (draws, the training spans' sweep) and what gives it away (the training
# spans, in the tunes' mix), all written to docs/results/issue19_session_xxxvii/.
#   bash docs/results/issue19_session_xxxvii/scripts/arm_and_screen.sh ARM [FLAGS]
# This session's two (each logged to runs/chain37.log):
#   arm_and_screen.sh p32post_rests_emo3 --config.loss.emotion_weight=3.0   (written in (xxxvi))
#   arm_and_screen.sh p32post_rests_emo25 --config.loss.emotion_weight=2.5
# (configs/nottingham_ship.py's own weight is 2: that is (xxxvi)'s rest arm, the control.)
set -euo pipefail
cd "$(dirname "$0")/../../../.."
OUT="${OUT:-docs/results/issue19_session_xxxvii}"  # (xl): OUT and CHAIN may be set
CHAIN="${CHAIN:-runs/chain37.log}"
ARM="$1"
echo "$ARM start $(date)" >> "$CHAIN"
bash docs/results/issue19_session_xxxv/scripts/fine_tune_form_long.sh runs/nott_data 10000 "$ARM" 2.0 \
  --config.loss.realism_register=True --config.loss.realism_rests=True "${@:2}"
echo "$ARM trained $(date)" >> "$CHAIN"
bash docs/results/issue19_session_xxx/scripts/screen.sh "runs/$ARM" runs/nott_data "$OUT/$ARM"
echo "$ARM screened $(date)" >> "$CHAIN"
PYTHONPATH=. .venv/bin/python launch/giveaway_check.py --cache=runs/nott_data --split=train \
  --models="runs/$ARM/export" --bars=32 \
  --json="$OUT/giveaways32_train_${ARM#p32post_}.json" > "$OUT/giveaways32_train_${ARM#p32post_}.log" 2>&1
echo "$ARM giveaways $(date)" >> "$CHAIN"
