#!/usr/bin/env bash
# Set up .venv and run the linter and the whole test suite (slow tests included); the fast tier
# is `bash launch/test.sh -m "not slow"`.
# Real-data tests read $HRNNVAE_DATASETS (a folder with nottingham/ and jsb_chorales/); without it
# they skip, except under CI=true, where its absence fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/venv.sh
ruff check hrnnvae tests launch configs
# One worker per core (pytest-xdist), at least 2 and at most 4 (each compiles and holds its own
# programs); the dev machine has 2 cores. HRNNVAE_TEST_WORKERS=N sets it; 0 runs in one process.
# loadgroup: the tests of one expensive session fixture share a worker (tests/conftest.py).
CORES="$(nproc 2>/dev/null || echo 2)"
WORKERS="${HRNNVAE_TEST_WORKERS:-$(( CORES < 2 ? 2 : (CORES > 4 ? 4 : CORES) ))}"
echo "launch/test.sh: $CORES cores, $WORKERS pytest workers"
python -m pytest -q -n "$WORKERS" --dist loadgroup "$@"
