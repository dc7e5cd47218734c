#!/usr/bin/env bash
# Session (xli): an ELBO-stage run's export screened for form, as (xl) asked of the 8-bar
# lookback: its export copied (the run untouched), the fitted latent prior fitted on the copy,
# K 1, then at 32 bars the phrases by distance (phrase_structure.py, seed 0, 64 a quadrant) and the
# feature classifier against twenty draws of training tunes (draws_by_family.py, seeds 0-2).
#   bash docs/results/issue19_session_xli/scripts/screen_elbo.sh RUN CACHE NAME
# writes runs/screen_NAME/export and docs/results/issue19_session_xli/NAME_{prior,phrases,draws32}.log
set -euo pipefail
RUN="$1" CACHE="$2" NAME="$3"
cd "$(dirname "$0")/../../../.."
export PYTHONPATH=.
OUT=docs/results/issue19_session_xli
COPY="runs/screen_$NAME"
if [ ! -f "$COPY/export/latent_prior.npz" ]; then
  rm -rf "$COPY"; mkdir -p "$COPY"; cp -r "$RUN/export" "$COPY/export"
  # An ELBO stage has no realism critic to keep one of 16 candidates: both arms sample at K 1
  # (the rest of the recipe's sampling: T 0.7, top-p 0.95, repeat penalty 1.5, 8-bar reach).
  .venv/bin/python -c "import json, sys; p = sys.argv[1]; c = json.load(open(p)); \
c['sampling']['candidates'] = c['config']['sample']['candidates'] = 1; \
json.dump(c, open(p, 'w'), indent=1)" "$COPY/export/config.json"
  .venv/bin/python launch/fit_latent_prior.py --model="$COPY" --cache="$CACHE" \
    > "$OUT/${NAME}_prior.log" 2>&1
fi
.venv/bin/python docs/results/issue19_session_xl/scripts/phrase_structure.py \
  "$CACHE" "$COPY/export" 32 0 64 > "$OUT/${NAME}_phrases.log" 2>&1
.venv/bin/python docs/results/issue19_session_xxix/scripts/draws_by_family.py \
  "$CACHE" "$COPY/export" 32 0,1,2 64 20 > "$OUT/${NAME}_draws32.log" 2>&1
