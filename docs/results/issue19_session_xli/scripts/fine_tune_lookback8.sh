#!/usr/bin/env bash
# Session (xli): (xxxiii)'s spans-and-4-grams fine-tune (the realism term's real side every whole
# 32-bar training span; the phrases', bars' (over 32 bars), 4-grams' and part-lift columns; the
# fine-tune's samples 32 bars of the batch's own latents at an 8-bar reach, T 0.7, top-p 0.95)
# from (xl)'s 8-bar lookback ELBO (runs/lookback8_elbo, step 8000) to step 9000, equal steps
# with its control runs/p32post_spans_grams (the same from runs/phr_elbo, rebuilt in (xl)), with
# the realism MMDs against the validation split's spans logged beside the training spans'
# (loss.realism_heldout); then the fitted latent prior and the realism critic.
#   bash docs/results/issue19_session_xli/scripts/fine_tune_lookback8.sh CACHE
set -euo pipefail
cd "$(dirname "$0")/../../../.."
ARM=lb8_spans_grams
[[ -d runs/$ARM ]] || cp -r runs/lookback8_elbo runs/$ARM
bash docs/results/issue19_session_xxxii/scripts/fine_tune_bar_column.sh "$1" 9000 "$ARM" \
  --config.model.lookback_input=True "--config.model.lookback_bars=(8,)" \
  --config.loss.realism_bar_part_bars=32 --config.loss.realism_part_lift=True \
  --config.loss.realism_real_bars=32 --config.loss.realism_gram_repetition=True \
  --config.loss.realism_heldout=True
