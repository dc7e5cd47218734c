#!/usr/bin/env bash
# Session (xxxvii): the rest-share arm at emotion weight 2.5 (configs/nottingham_ship.py has 2: that is the rest arm, judge 0.820; at 3 the judge was 0.906 and the samples less real), then its screen and giveaways.
cd "$(dirname "$0")/../../../.."
OUT=docs/results/issue19_session_xxxvii
ARM=p32post_rests_emo25
echo "E start $(date)" >> runs/chain37.log
bash docs/results/issue19_session_xxxv/scripts/fine_tune_form_long.sh runs/nott_data 10000 $ARM 2.0 \
  --config.loss.realism_register=True --config.loss.realism_rests=True --config.loss.emotion_weight=2.5
echo "E trained $(date)" >> runs/chain37.log
bash docs/results/issue19_session_xxx/scripts/screen.sh runs/$ARM runs/nott_data $OUT/$ARM
echo "E screened $(date)" >> runs/chain37.log
PYTHONPATH=. .venv/bin/python launch/giveaway_check.py --cache=runs/nott_data --split=train \
  --models=runs/$ARM/export --bars=32 \
  --json=$OUT/giveaways32_train_rests_emo25.json > $OUT/giveaways32_train_rests_emo25.log 2>&1
echo "E giveaways $(date)" >> runs/chain37.log
