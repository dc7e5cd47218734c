#!/usr/bin/env bash
# Session (xxxiii): (xxxii)'s bars arm (the fine-tune's samples decode the batch's own latents,
# 32 whole bars at an 8-bar reach, T 0.7, top-p 0.95, the phrases' column and the bars restated
# in each 16-bar part) with the runs of 4 notes restated in each part as one more column
# (loss.realism_gram_repetition): the bars arm's 32-bar samples restated bars, but their 4-gram
# repetition was 0.440 against the training spans' 0.603, the realism test's first giveaway.
# From (xxx)'s ELBO state (runs/phr_elbo, the shipped recipe to step 8000) to step STEPS (9000:
# equal steps with its control, (xxxii)'s p32post_bars; 10000: the recipe's); then the fitted
# latent prior and the realism critic. Run it again with a larger STEPS to go on.
#   bash docs/results/issue19_session_xxxiii/scripts/fine_tune_grams.sh CACHE [STEPS] [ARM]
set -euo pipefail
here="$(dirname "$0")"
exec bash "$here/../../issue19_session_xxxii/scripts/fine_tune_bar_column.sh" "$1" \
  "${2:-9000}" "${3:-p32post_grams}" --config.loss.realism_gram_repetition=True
