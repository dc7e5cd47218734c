# Sourced by the other launch scripts: makes .venv (or $HRNNVAE_VENV) with hrnnvae and its test
# extras installed, reinstalling only when setup.cfg or pyproject.toml changed, and puts it on PATH.
_hrnnvae_uv_install() {  # $1: the venv; status 0 when uv installed hrnnvae and its test extras
  local venv="$1" setting value url args=()
  "$venv/bin/python" -m pip install --quiet uv 2>/dev/null || return 1
  while IFS='=' read -r setting value; do  # pip config list: "global.find-links='/opt/wheels'"
    value="${value#\'}"; value="${value%\'}"
    case "${setting##*.}" in
      index-url) args+=(--index-url "$value") ;;
      extra-index-url) for url in $value; do args+=(--extra-index-url "$url"); done ;;
      find-links) for url in $value; do args+=(--find-links "$url"); done ;;
      constraint) args+=(--constraint "$value") ;;
    esac
  done < <("$venv/bin/python" -m pip config list 2>/dev/null)
  UV_HTTP_TIMEOUT="${UV_HTTP_TIMEOUT:-30}" "$venv/bin/uv" pip install --quiet \
    --python "$venv/bin/python" --index-strategy unsafe-best-match "${args[@]}" -e ".[test]"
}
VENV="${HRNNVAE_VENV:-.venv}"
case "$VENV" in /*) ;; *) VENV="$PWD/$VENV" ;; esac
if [ ! -x "$VENV/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$VENV"
fi
_want="$(cat setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$VENV/.hrnnvae-installed" 2>/dev/null)" != "$_want" ]; then
  # uv installs the releases pip would pick (pip's settings handed to it: pip.conf's indexes,
  # find-links and constraints, the best match across them all) in a fraction of the time: a
  # fresh .venv in 11-26 s against pip's 61 s on the dev machine. pip does the install wherever
  # uv cannot be had or fails.
  if ! _hrnnvae_uv_install "$VENV"; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e ".[test]"
  fi
  echo "$_want" > "$VENV/.hrnnvae-installed"
fi
export PATH="$VENV/bin:$PATH"
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::DeprecationWarning}"
