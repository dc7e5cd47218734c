#!/usr/bin/env bash
# Session (xxxix): a fine-tune arm from the shipped Nottingham model's parameters
# (train.init_from), because the states (xxx)-(xxxvii)'s arms ran from were lost with runs/.
# The fine-tune terms start at once (aux_start_step 0) and the KL weight is at its maximum from
# the first step (the shipped model is past its warm-up); STEPS steps, then the fitted latent
# prior and the realism critic (adapters and E's fit left out: prior samples never read them);
# then (xxx)'s screen (draws of training tunes, the training spans' sweep) and what gives the
# samples away, into docs/results/issue19_session_xxxix/.
# RECIPE: `rests`, the rest arm's ((xxxvi)-(xxxvii): the 32-bar posterior fine-tune with the
# spans, phrases, bars, 4-grams, part lift, long notes, register and rest columns, form MMD at 2),
# or `shipped`, the shipped recipe's own fine-tune continued: the control at equal steps.
# Flags after STEPS are passed on.
#   bash docs/results/issue19_session_xxxix/scripts/arm_chain.sh CACHE ARM RECIPE STEPS [FLAGS]
# This session's: arm_chain.sh runs/nott_data rests_from_ship rests 1000 (run as
# arm_from_shipped.sh, since folded into this script: the same commands) and
# arm_chain.sh runs/nott_data shipped_from_ship shipped 1000, side by side.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
CACHE="$1" ARM="$2" RECIPE="$3" STEPS="$4"
OUT=docs/results/issue19_session_xxxix
case "$RECIPE" in
  shipped) COLUMNS=() ;;
  rests) COLUMNS=(
      --config.loss.aux_sample_temperature=0.7 --config.loss.aux_sample_top_p=0.95
      --config.loss.prior_sample_bars=32 --config.loss.prior_samples_beyond_window=True
      --config.loss.prior_sample_attention_bars=8 --config.loss.aux_latents=posterior
      --config.loss.realism_phrases=True --config.loss.realism_bar_repetition=True
      --config.loss.realism_bar_part_bars=32 --config.loss.realism_part_lift=True
      --config.loss.realism_real_bars=32 --config.loss.realism_gram_repetition=True
      --config.loss.realism_form_weight=2.0 --config.loss.realism_long_notes=True
      --config.loss.realism_register=True --config.loss.realism_rests=True) ;;
  *) echo "RECIPE must be rests or shipped, not $RECIPE" >&2; exit 2 ;;
esac
source launch/venv.sh
echo "$ARM start $(date)" >> runs/chain39.log
hrnnvae-train --config=configs/nottingham_ship.py --config.data.cache_dir="$CACHE" \
  --config.train.init_from=hrnnvae/pretrained/nottingham --config.loss.aux_start_step=0 \
  --config.loss.kl_warmup_steps=1 --config.train.eval_every_steps=500 \
  --config.post.bar_adapter_steps=0 --config.post.transfer_adapter_steps=0 \
  --config.post.emotion_fit_steps=0 --config.post.ship_as= "${COLUMNS[@]}" \
  "${@:5}" --config.train.max_steps="$STEPS" --workdir="runs/$ARM" >> "runs/$ARM.log" 2>&1
echo "$ARM trained $(date)" >> runs/chain39.log
bash docs/results/issue19_session_xxx/scripts/screen.sh "runs/$ARM" "$CACHE" "$OUT/$ARM"
echo "$ARM screened $(date)" >> runs/chain39.log
PYTHONPATH=. .venv/bin/python launch/giveaway_check.py --cache="$CACHE" --split=train \
  --models="runs/$ARM/export" --bars=32 \
  --json="$OUT/giveaways32_train_$ARM.json" > "$OUT/giveaways32_train_$ARM.log" 2>&1
echo "$ARM giveaways $(date)" >> runs/chain39.log
