#!/usr/bin/env bash
# Session (xxxiv): (xxxiii)'s spans-and-4-grams arm (the realism term's real side every whole
# 32-bar training span of the batch's meters; the phrases', bars', 4-grams' (over all 32 bars) and
# part-lift columns; the fine-tune's samples 32 bars of the batch's own latents at an 8-bar reach,
# T 0.7, top-p 0.95) with the form columns' own MMD added at WEIGHT (loss.realism_form_weight):
# that arm's 32-bar samples' phrases were too alike (0.828, the training spans 0.765), its first
# giveaway, a gap the MMD over all 46 columns barely sees. From (xxxiii)'s step-9000 state of
# that arm (runs/p32post_spans_grams, copied) to step STEPS (10000: equal steps with its control,
# p32post_spans_grams10k); then the fitted latent prior and the realism critic.
#   bash docs/results/issue19_session_xxxiv/scripts/fine_tune_form.sh CACHE [STEPS] [ARM] [WEIGHT]
set -euo pipefail
here="$(dirname "$0")"
ARM="${3:-p32post_spans_grams_form}"
[[ -d runs/$ARM ]] || cp -r runs/p32post_spans_grams "runs/$ARM"
exec bash "$here/../../issue19_session_xxxii/scripts/fine_tune_bar_column.sh" "$1" \
  "${2:-10000}" "$ARM" --config.loss.realism_bar_part_bars=32 \
  --config.loss.realism_part_lift=True --config.loss.realism_real_bars=32 \
  --config.loss.realism_gram_repetition=True --config.loss.realism_form_weight="${4:-1.0}"
