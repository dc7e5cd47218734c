"""launch/venv.sh, the set-up every launch script and CI source: it installs with uv, handing it
pip's own settings, and falls back to pip where uv fails. Run on a stand-in venv whose python and
uv are shell scripts that log their arguments, so nothing is downloaded."""

import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).parent.parent

_PYTHON = """#!/usr/bin/env bash
echo "python $*" >> "$LOG"
if [[ "$*" == "-m pip config list" ]]; then
  printf '%s\\n' "global.extra-index-url='file:///a/simple file:///b/simple'" \\
    "global.find-links='/wheels'" "global.constraint='/etc/caps.txt'" "global.cert='/etc/c.crt'" \\
    "global.index-url='https://mirror/simple'"
fi
if [[ "$*" == "-m pip install --quiet uv" ]]; then exit "$UV_MISSING"; fi
exit 0
"""
_UV = """#!/usr/bin/env bash
echo "uv $*" >> "$LOG"
exit "$UV_STATUS"
"""


def _source(tmp_path: pathlib.Path, uv_status: int = 0, uv_missing: bool = False) -> list[str]:
  """Sources venv.sh in tmp_path/repo on the stand-in venv tmp_path/venv (its python and uv, uv
  exiting uv_status; uv_missing: pip cannot install uv); every command run so far."""
  repo, venv, log = tmp_path / "repo", tmp_path / "venv", tmp_path / "log"
  if not repo.exists():
    (repo / "launch").mkdir(parents=True)
    for name in ("launch/venv.sh", "setup.cfg", "pyproject.toml"):
      shutil.copy(ROOT / name, repo / name)
    (venv / "bin").mkdir(parents=True)
    for name, text in (("python", _PYTHON), ("uv", _UV)):
      (venv / "bin" / name).write_text(text)
      (venv / "bin" / name).chmod(0o755)
  env = {"PATH": "/usr/bin:/bin", "HRNNVAE_VENV": str(venv), "LOG": str(log),
         "UV_STATUS": str(uv_status), "UV_MISSING": str(int(uv_missing))}
  result = subprocess.run(["bash", "-c", 'set -euo pipefail; source launch/venv.sh; echo "PATH=$PATH"'],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=60)
  assert result.returncode == 0, result.stderr
  assert f"PATH={venv}/bin:" in result.stdout
  assert (venv / ".hrnnvae-installed").is_file()
  return log.read_text().splitlines()


def test_uv_installs_with_pips_indexes_links_and_constraints_and_the_best_match(tmp_path):
  commands = _source(tmp_path)
  uv = [line for line in commands if line.startswith("uv ")]
  assert len(uv) == 1
  words = uv[0].split()
  assert words[:3] == ["uv", "pip", "install"] and words[-2:] == ["-e", ".[test]"]
  pairs = set(zip(words, words[1:]))
  assert {("--index-strategy", "unsafe-best-match"), ("--index-url", "https://mirror/simple"),
          ("--extra-index-url", "file:///a/simple"), ("--extra-index-url", "file:///b/simple"),
          ("--find-links", "/wheels"), ("--constraint", "/etc/caps.txt"),
          ("--python", f"{tmp_path}/venv/bin/python")} <= pairs
  assert "/etc/c.crt" not in uv[0]  # only what chooses releases is handed on
  assert not any("-e .[test]" in line for line in commands if line.startswith("python"))
  assert _source(tmp_path) == commands  # installed once: setup.cfg unchanged, nothing runs again


@pytest.mark.parametrize("uv_missing", [False, True], ids=["uv_fails", "uv_not_installable"])
def test_pip_installs_where_uv_fails_or_cannot_be_had(tmp_path, uv_missing):
  commands = _source(tmp_path, uv_status=1, uv_missing=uv_missing)
  assert commands[-2:] == ["python -m pip install --quiet --upgrade pip",
                           "python -m pip install --quiet -e .[test]"]
  assert any(line.startswith("uv ") for line in commands) == (not uv_missing)
