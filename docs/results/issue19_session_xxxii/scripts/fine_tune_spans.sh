#!/usr/bin/env bash
# Session (xxxii): (xxxi)'s posterior arm (the fine-tune's samples decode the batch's own latents,
# 32 whole bars at an 8-bar reach, T 0.7, top-p 0.95, the phrases' column) with the realism
# term's real side the training split's whole 32-bar spans of the batch's meters
# (loss.realism_real_bars=32) instead of the batch's 16-bar windows, and two more form columns
# read on whole 32 bars: the bars restated (loss.realism_bar_repetition, part 32) and the second
# part's lift (loss.realism_part_lift). From (xxx)'s ELBO state (runs/phr_elbo, the shipped
# recipe to step 8000) to step STEPS (9000: equal steps with (xxxi)'s p32post_phrases); then
# the fitted latent prior and the realism critic (adapters and E's fit left out: prior samples
# never read them). Run it again with a larger STEPS to go on.
#   bash docs/results/issue19_session_xxxii/scripts/fine_tune_spans.sh CACHE [STEPS] [ARM]
set -euo pipefail
CACHE="$1"; STEPS="${2:-9000}"; ARM="${3:-p32post_spans}"
source launch/venv.sh
[[ -d runs/$ARM ]] || cp -r runs/phr_elbo runs/$ARM
hrnnvae-train --config=configs/nottingham_ship.py --config.data.cache_dir="$CACHE" \
  --config.train.eval_every_steps=1000 --config.post.bar_adapter_steps=0 \
  --config.post.transfer_adapter_steps=0 --config.post.emotion_fit_steps=0 \
  --config.post.ship_as= --config.loss.aux_sample_temperature=0.7 \
  --config.loss.aux_sample_top_p=0.95 \
  --config.loss.prior_sample_bars=32 --config.loss.prior_samples_beyond_window=True \
  --config.loss.prior_sample_attention_bars=8 --config.loss.aux_latents=posterior \
  --config.loss.realism_phrases=True --config.loss.realism_bar_repetition=True \
  --config.loss.realism_bar_part_bars=32 --config.loss.realism_part_lift=True \
  --config.loss.realism_real_bars=32 \
  --config.train.max_steps="$STEPS" --workdir=runs/$ARM >> runs/$ARM.log 2>&1
