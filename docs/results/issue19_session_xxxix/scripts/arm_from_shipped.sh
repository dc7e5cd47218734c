#!/usr/bin/env bash
# Session (xxxix): the rest arm's recipe ((xxxvi)-(xxxvii): the 32-bar posterior fine-tune with
# the spans, phrases, bars, 4-grams, part lift, long notes, register and rest columns, form MMD at
# 2) run from the shipped Nottingham model's parameters (train.init_from), because the states it
# was run from ((xxx)'s ELBO state, (xxxiii)'s spans arm) were lost with runs/. The fine-tune
# terms start at once (aux_start_step 0) and the KL weight is at its maximum from the first step
# (the shipped model is past its warm-up); STEPS fine-tune steps, then the fitted latent prior and
# the realism critic (adapters and E's fit left out: prior samples never read them); then the
# screen of (xxx) (draws of training tunes, the training spans' sweep) and what gives it away.
# Flags after STEPS are passed on (CONTROL: the shipped recipe's own fine-tune continued, i.e.
# this script with --config.loss.realism_real_bars=0 and every column flag False is not the
# control; see control_from_shipped.sh).
#   bash docs/results/issue19_session_xxxix/scripts/arm_from_shipped.sh CACHE ARM STEPS [FLAGS]
set -euo pipefail
cd "$(dirname "$0")/../../../.."
CACHE="$1" ARM="$2" STEPS="$3"
OUT=docs/results/issue19_session_xxxix
source launch/venv.sh
echo "$ARM start $(date)" >> runs/chain39.log
hrnnvae-train --config=configs/nottingham_ship.py --config.data.cache_dir="$CACHE" \
  --config.train.init_from=hrnnvae/pretrained/nottingham --config.loss.aux_start_step=0 \
  --config.loss.kl_warmup_steps=1 --config.train.eval_every_steps=500 \
  --config.post.bar_adapter_steps=0 --config.post.transfer_adapter_steps=0 \
  --config.post.emotion_fit_steps=0 --config.post.ship_as= \
  --config.loss.aux_sample_temperature=0.7 --config.loss.aux_sample_top_p=0.95 \
  --config.loss.prior_sample_bars=32 --config.loss.prior_samples_beyond_window=True \
  --config.loss.prior_sample_attention_bars=8 --config.loss.aux_latents=posterior \
  --config.loss.realism_phrases=True --config.loss.realism_bar_repetition=True \
  --config.loss.realism_bar_part_bars=32 --config.loss.realism_part_lift=True \
  --config.loss.realism_real_bars=32 --config.loss.realism_gram_repetition=True \
  --config.loss.realism_form_weight=2.0 --config.loss.realism_long_notes=True \
  --config.loss.realism_register=True --config.loss.realism_rests=True \
  "${@:4}" --config.train.max_steps="$STEPS" --workdir="runs/$ARM" >> "runs/$ARM.log" 2>&1
echo "$ARM trained $(date)" >> runs/chain39.log
bash docs/results/issue19_session_xxx/scripts/screen.sh "runs/$ARM" "$CACHE" "$OUT/$ARM"
echo "$ARM screened $(date)" >> runs/chain39.log
PYTHONPATH=. .venv/bin/python launch/giveaway_check.py --cache="$CACHE" --split=train \
  --models="runs/$ARM/export" --bars=32 \
  --json="$OUT/giveaways32_train_$ARM.json" > "$OUT/giveaways32_train_$ARM.log" 2>&1
echo "$ARM giveaways $(date)" >> runs/chain39.log
