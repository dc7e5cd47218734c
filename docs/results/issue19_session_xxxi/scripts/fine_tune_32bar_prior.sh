#!/usr/bin/env bash
# Session (xxxi): the fine-tune's samples drawn as users hear them: from the prior
# (loss.aux_latents=standard), 32 whole bars (loss.prior_sample_bars=32 with
# loss.prior_samples_beyond_window), the decoder attending over 8 bars
# (loss.prior_sample_attention_bars=8, the shipped sampling's reach), at T 0.7, top-p 0.95, with
# the 4-bar phrases' similarity in the realism term (loss.realism_phrases). From (xxx)'s ELBO
# state (the shipped recipe to step 8000, runs/phr_elbo) to step 10000, the recipe's; then the
# fitted latent prior and the realism critic (adapters and E's fit left out: prior samples never
# read them). Its controls are (xxx)'s two arms from the same state (runs/phr_t07,
# runs/phr_t07_phrases: 8-bar posterior decodes at T 0.7, without / with the column).
# ARM p32post_phrases: the same but decoding the batch's own posterior latents (the recipe's
# loss.aux_latents=posterior, near the fitted prior users sample from) for 32 bars, to step 9000
# only (the session's time).
#   bash docs/results/issue19_session_xxxi/scripts/fine_tune_32bar_prior.sh CACHE [ARM]
set -euo pipefail
CACHE="$1"; ARM="${2:-p32_phrases}"
source launch/venv.sh
extra=(--config.loss.realism_phrases=True --config.loss.aux_latents=standard)
[[ "$ARM" == p32post_phrases ]] && extra=(--config.loss.realism_phrases=True
  --config.loss.aux_latents=posterior --config.train.max_steps=9000)
[[ -d runs/$ARM ]] || cp -r runs/phr_elbo runs/$ARM
hrnnvae-train --config=configs/nottingham_ship.py --config.data.cache_dir="$CACHE" \
  --config.train.eval_every_steps=1000 --config.post.bar_adapter_steps=0 \
  --config.post.transfer_adapter_steps=0 --config.post.emotion_fit_steps=0 \
  --config.post.ship_as= --config.loss.aux_sample_temperature=0.7 \
  --config.loss.aux_sample_top_p=0.95 \
  --config.loss.prior_sample_bars=32 --config.loss.prior_samples_beyond_window=True \
  --config.loss.prior_sample_attention_bars=8 "${extra[@]}" --workdir=runs/$ARM \
  > runs/$ARM.log 2>&1
