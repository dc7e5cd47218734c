#!/usr/bin/env bash
# Session (xli): the phrases by distance (phrase_structure.py, seed 0, 64 a quadrant) and twenty
# draws of training tunes (draws_by_family.py, seeds 0-2), both at 32 bars on runs/nott_data, of screen_elbo.sh's
# copy of a run (runs/screen_NAME), into docs/results/issue19_session_xli/NAME_{phrases,draws32}.log;
# with T and SUFFIX, of a copy of it at another sampling temperature instead (runs/screen_NAME_SUFFIX,
# the temperature set in its config.json; logs NAME_{phrases,draws32}_SUFFIX.log). SKIP_DRAWS:
# the phrases only.
#   bash docs/results/issue19_session_xli/scripts/screen_at_temperature.sh NAME [T SUFFIX [SKIP_DRAWS]]
# This session's: lookback8_elbo 1.0 t1, phr_elbo 1.0 t1, lookback8_elbo 0.85 t085, and
# lb8_spans_grams 0.85 t085 (its runs/screen_lb8_spans_grams a plain copy of its export/: K 16).
set -euo pipefail
NAME="$1" T="${2:-}" SUFFIX="${3:-}"
cd "$(dirname "$0")/../../../.."
export PYTHONPATH=.
OUT=docs/results/issue19_session_xli
COPY="runs/screen_$NAME" LOGS=""
if [[ -n "$T" ]]; then
  COPY="runs/screen_${NAME}_${SUFFIX}" LOGS="_$SUFFIX"
  rm -rf "$COPY"; cp -r "runs/screen_$NAME" "$COPY"
  .venv/bin/python -c "import json, sys; p = sys.argv[1]; c = json.load(open(p)); \
c['sampling']['temperature'] = c['config']['sample']['temperature'] = float(sys.argv[2]); \
json.dump(c, open(p, 'w'), indent=1)" "$COPY/export/config.json" "$T"
fi
.venv/bin/python docs/results/issue19_session_xl/scripts/phrase_structure.py runs/nott_data \
  "$COPY/export" 32 0 64 > "$OUT/${NAME}_phrases${LOGS}.log" 2>&1
[[ -n "${4:-}" ]] && exit 0
.venv/bin/python docs/results/issue19_session_xxix/scripts/draws_by_family.py runs/nott_data \
  "$COPY/export" 32 0,1,2 64 20 > "$OUT/${NAME}_draws32${LOGS}.log" 2>&1
# What gives the copies away (run after them, this session):
#   PYTHONPATH=. .venv/bin/python launch/giveaway_check.py --cache=runs/nott_data --split=train \
#     --models=runs/screen_lookback8_elbo_t085/export,runs/screen_lb8_spans_grams_t085/export \
#     --bars=32 --json=docs/results/issue19_session_xli/giveaways32_train_t085.json
