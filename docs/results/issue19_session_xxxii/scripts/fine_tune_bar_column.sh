#!/usr/bin/env bash
# Session (xxxii): (xxxi)'s posterior arm (the fine-tune's samples decode the batch's own latents,
# 32 whole bars at an 8-bar reach, T 0.7, top-p 0.95, the phrases' column in the realism term)
# with the bars restated in each 16-bar part as one more column (loss.realism_bar_repetition):
# the phrases' column alone made the phrases differ by restating nothing (bar repetition 0.378,
# the training tunes 0.581). From (xxx)'s ELBO state (runs/phr_elbo, the shipped recipe to step
# 8000) to step STEPS (9000: equal steps with (xxxi)'s p32post_phrases, its control; 10000: the
# recipe's); then the fitted latent prior and the realism critic (adapters and E's fit left
# out: prior samples never read them). Run it again with a larger STEPS to go on. Flags after ARM
# are passed on (fine_tune_spans.sh adds its own).
#   bash docs/results/issue19_session_xxxii/scripts/fine_tune_bar_column.sh CACHE [STEPS] [ARM] [FLAGS]
set -euo pipefail
CACHE="$1"; STEPS="${2:-9000}"; ARM="${3:-p32post_bars}"
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
  "${@:4}" --config.train.max_steps="$STEPS" --workdir=runs/$ARM >> runs/$ARM.log 2>&1
