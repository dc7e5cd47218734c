#!/usr/bin/env bash
# Session (xxxv): (xxxiv)'s form arm (spans, phrases, bars, 4-grams over 32 bars, part lift, the
# form columns' own MMD) with the realism term's note lengths in the realism test's own bins
# (loss.realism_long_notes: 9..16 and over 16 steps; the pooled 9+ column could not see the
# whole-bar notes that gave (xxxiv)'s 2,000-step arm away) and the form MMD at WEIGHT (2: at 1
# the phrases stayed too alike, 0.827 against the spans' 0.765). From (xxxiii)'s step-9000 state
# (runs/p32post_spans_grams, copied) to STEPS (10000: equal steps with (xxxiv)'s two arms); then
# the fitted latent prior and the realism critic. Flags after WEIGHT are passed on.
#   bash docs/results/issue19_session_xxxv/scripts/fine_tune_form_long.sh CACHE [STEPS] [ARM] [WEIGHT] [FLAGS]
set -euo pipefail
here="$(dirname "$0")"
ARM="${3:-p32post_form2_long}"
[[ -d runs/$ARM ]] || cp -r runs/p32post_spans_grams "runs/$ARM"
exec bash "$here/../../issue19_session_xxxii/scripts/fine_tune_bar_column.sh" "$1" \
  "${2:-10000}" "$ARM" --config.loss.realism_bar_part_bars=32 \
  --config.loss.realism_part_lift=True --config.loss.realism_real_bars=32 \
  --config.loss.realism_gram_repetition=True --config.loss.realism_form_weight="${4:-2.0}" \
  --config.loss.realism_long_notes=True "${@:5}"
