#!/usr/bin/env bash
# Session (xli): an ELBO-stage run's export screened for form, as (xl) asked of the 8-bar
# lookback: its export copied to runs/screen_NAME (the run untouched), the fitted latent prior
# fitted on the copy (log NAME_prior.log), K 1, then screen_at_temperature.sh NAME at its own
# sampling (the phrases by distance and twenty draws of training tunes, 32 bars).
#   bash docs/results/issue19_session_xli/scripts/screen_elbo.sh RUN CACHE NAME
# This session's: runs/phr_elbo phr_elbo, runs/lookback8_elbo lookback8_elbo.
set -euo pipefail
RUN="$1" CACHE="$2" NAME="$3"
cd "$(dirname "$0")/../../../.."
COPY="runs/screen_$NAME"
if [ ! -f "$COPY/export/latent_prior.npz" ]; then
  rm -rf "$COPY"; mkdir -p "$COPY"; cp -r "$RUN/export" "$COPY/export"
  # An ELBO stage has no realism critic to keep one of 16 candidates: both arms sample at K 1
  # (the rest of the recipe's sampling: T 0.7, top-p 0.95, repeat penalty 1.5, 8-bar reach).
  .venv/bin/python -c "import json, sys; p = sys.argv[1]; c = json.load(open(p)); \
c['sampling']['candidates'] = c['config']['sample']['candidates'] = 1; \
json.dump(c, open(p, 'w'), indent=1)" "$COPY/export/config.json"
  PYTHONPATH=. .venv/bin/python launch/fit_latent_prior.py --model="$COPY" --cache="$CACHE" \
    > "docs/results/issue19_session_xli/${NAME}_prior.log" 2>&1
fi
bash docs/results/issue19_session_xli/scripts/screen_at_temperature.sh "$NAME"
