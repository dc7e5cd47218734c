#!/usr/bin/env bash
# Session (xxxvii), written in (xxxvi): the rest-share arm at emotion weight 3, then its screen and giveaways.
cd "$(dirname "$0")/../../../.."
OUT=docs/results/issue19_session_xxxvii
ARM=p32post_rests_emo3
echo "C start $(date)" >> runs/chain37.log
bash docs/results/issue19_session_xxxv/scripts/fine_tune_form_long.sh runs/nott_data 10000 $ARM 2.0 \
  --config.loss.realism_register=True --config.loss.realism_rests=True --config.loss.emotion_weight=3.0
echo "C trained $(date)" >> runs/chain37.log
bash docs/results/issue19_session_xxx/scripts/screen.sh runs/$ARM runs/nott_data $OUT/$ARM
echo "C screened $(date)" >> runs/chain37.log
PYTHONPATH=. .venv/bin/python launch/giveaway_check.py --cache=runs/nott_data --split=train \
  --models=runs/$ARM/export --bars=32 \
  --json=$OUT/giveaways32_train_rests_emo3.json > $OUT/giveaways32_train_rests_emo3.log 2>&1
echo "C giveaways $(date)" >> runs/chain37.log
