#!/usr/bin/env bash
# Session (xxxiii): (xxxii)'s spans arm (the realism term's real side every whole 32-bar training
# span of the batch's meters; the phrases', bars' (over all 32 bars) and part-lift columns; the
# fine-tune's samples 32 bars of the batch's own latents at an 8-bar reach, T 0.7, top-p 0.95)
# with the runs of 4 notes restated over all 32 bars as one more column
# (loss.realism_gram_repetition, its part realism_bar_part_bars=32): the spans arm's samples
# restated bars (0.486, the tunes 0.581) largely with whole-bar held notes, and their 4-gram
# repetition was 0.389 against the training spans' 0.603, the realism test's first giveaway;
# real 32-bar tunes' restated figures lie mostly across their 16-bar halves (each half 0.444).
# From runs/phr_elbo (the shipped recipe to step 8000) to step STEPS (9000: equal steps with its
# control, p32post_spans); then the fitted latent prior and the realism critic.
#   bash docs/results/issue19_session_xxxiii/scripts/fine_tune_spans_grams.sh CACHE [STEPS] [ARM]
set -euo pipefail
here="$(dirname "$0")"
exec bash "$here/../../issue19_session_xxxii/scripts/fine_tune_bar_column.sh" "$1" \
  "${2:-9000}" "${3:-p32post_spans_grams}" --config.loss.realism_bar_part_bars=32 \
  --config.loss.realism_part_lift=True --config.loss.realism_real_bars=32 \
  --config.loss.realism_gram_repetition=True
