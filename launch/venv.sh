# Sourced by the other launch scripts: makes .venv (or $HRNNVAE_VENV) with hrnnvae and its test
# extras installed, reinstalling only when setup.cfg or pyproject.toml changed, and puts it on PATH.
VENV="${HRNNVAE_VENV:-.venv}"
case "$VENV" in /*) ;; *) VENV="$PWD/$VENV" ;; esac
if [ ! -x "$VENV/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$VENV"
fi
_want="$(cat setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$VENV/.hrnnvae-installed" 2>/dev/null)" != "$_want" ]; then
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e ".[test]"
  echo "$_want" > "$VENV/.hrnnvae-installed"
fi
export PATH="$VENV/bin:$PATH"
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::DeprecationWarning}"
