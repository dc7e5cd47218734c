#!/usr/bin/env bash
# Set up .venv and run the linter and the whole test suite (slow real-data tests included).
# Real-data tests read $HRNNVAE_DATASETS (a folder with nottingham/ and jsb_chorales/); without it
# they skip, except under CI=true, where its absence fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/venv.sh
ruff check hrnnvae tests launch configs
python -m pytest -q "$@"
