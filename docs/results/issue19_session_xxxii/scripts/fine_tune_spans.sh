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
here="$(dirname "$0")"
exec bash "$here/fine_tune_bar_column.sh" "$1" "${2:-9000}" "${3:-p32post_spans}" \
  --config.loss.realism_bar_part_bars=32 --config.loss.realism_part_lift=True \
  --config.loss.realism_real_bars=32
