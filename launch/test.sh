#!/usr/bin/env bash
# Set up .venv and run the linter and the whole test suite (slow tests included); the fast tier
# is `bash launch/test.sh -m "not slow"`.
# Real-data tests read $HRNNVAE_DATASETS (a folder with nottingham/ and jsb_chorales/); without it
# they skip, except under CI=true, where its absence fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/venv.sh
ruff check hrnnvae tests launch configs
# Two workers, one per core of the dev and CI machines (pytest-xdist); -n 0 runs in one process.
# loadgroup: the tests of one expensive session fixture share a worker (tests/conftest.py).
python -m pytest -q -n "${HRNNVAE_TEST_WORKERS:-2}" --dist loadgroup "$@"
