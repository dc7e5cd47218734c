"""hrnnvae-data as a user runs it: prepare, stats, and one clear line when data is missing."""

import os
import subprocess
import sys

import pytest


def _run(*args, env_extra=None, tmp_path=None):
  env = dict(os.environ, PYTHONWARNINGS="ignore", **(env_extra or {}))
  return subprocess.run([sys.executable, "-m", "hrnnvae.data.main", *args], capture_output=True,
                        text=True, env=env, timeout=300)


def test_missing_data_is_one_line_naming_the_fix(tmp_path):
  result = _run("prepare", "--dataset=nottingham", f"--source={tmp_path}/nowhere",
                f"--out={tmp_path}/cache")
  assert result.returncode == 2
  lines = [line for line in result.stderr.splitlines() if line.startswith("hrnnvae-data:")]
  assert len(lines) == 1
  assert "hrnnvae-data download --dataset=nottingham" in lines[0]


def test_default_source_is_the_download_folder(tmp_path):
  result = _run("prepare", "--dataset=jsb_chorales", f"--out={tmp_path}/cache",
                env_extra={"HRNNVAE_DATA_DIR": str(tmp_path / "data")})
  assert result.returncode == 2
  assert f"{tmp_path}/data/jsb_chorales" in result.stderr


def test_stats_without_a_cache_fails_clearly(tmp_path):
  result = _run("stats", f"--cache={tmp_path}")
  assert result.returncode == 2 and "hrnnvae-data prepare" in result.stderr


def test_unknown_command_is_a_usage_error():
  assert _run("train").returncode != 0


@pytest.mark.slow
def test_prepare_then_stats(datasets_root, tmp_path):
  prepared = _run("prepare", "--dataset=jsb_chorales", f"--source={datasets_root}/jsb_chorales",
                  f"--out={tmp_path}")
  assert prepared.returncode == 0, prepared.stderr
  assert "382 read, 382 used, 0 skipped" in prepared.stdout
  stats = _run("stats", f"--cache={tmp_path}")
  assert stats.returncode == 0, stats.stderr
  assert "pieces per split: train 229, valid 76, test 77" in stats.stdout
  for emotion in ("happy", "tense", "sad", "calm"):
    assert emotion in stats.stdout
