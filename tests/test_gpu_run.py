"""The GPU session's two commands, launch/gpu_prepare.sh (here) and launch/gpu_run.sh (there), on the CPU.

The end-to-end test runs gpu_run.sh in its tiny mode (configs/tiny.py, caches of 40 tunes) twice on
one OUT_DIR, as a GPU session would: the first call benchmarks, trains three runs side by side until
the deadline's SIGINT, evaluates and packs; the second resumes the trainings. The wheel download
needs a package registry, so CI checks only its dry run.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import pathlib
import subprocess
import sys
import tarfile
import zipfile

import pytest

ROOT = pathlib.Path(__file__).parent.parent
MB = 10 ** 6


def _env(**extra) -> dict:
  env = dict(os.environ)
  env.update(PYTHON=sys.executable, **extra)
  return env


def _run(*args, env=None, timeout=600) -> subprocess.CompletedProcess:
  return subprocess.run(["bash", *map(str, args)], cwd=ROOT, env=env or _env(), capture_output=True,
                        text=True, timeout=timeout)


def test_prepare_dry_run_lists_the_wheels_and_caches(tmp_path):
  datasets = tmp_path / "datasets"
  for name in ("nottingham", "jsb_chorales"):
    (datasets / name).mkdir(parents=True)
  out = tmp_path / "carry"
  result = _run("launch/gpu_prepare.sh", out, f"--datasets={datasets}", "--dry-run")
  assert result.returncode == 0, result.stderr[-2000:]
  lines = result.stdout.splitlines()
  downloads = [line for line in lines if " pip download " in line]
  # the versions this venv runs, for the GPU machine's Python and platform
  for name in ("ml-collections", "tensorboardX"):
    assert any(f"{name}=={importlib.metadata.version(name)}" in line for line in downloads), downloads
  assert all("--python-version 3.12" in line and "--only-binary=:all:" in line
             and "manylinux2014_x86_64" in line and "--no-deps" in line for line in downloads)
  prepares = [line for line in lines if "hrnnvae.data.main prepare" in line]
  assert len(prepares) == 2 and "nottingham" in prepares[0] and "jsb_chorales" in prepares[1]
  assert all("--transpose=5" in line for line in prepares)  # as both GPU configs train
  assert not out.exists()  # a dry run writes nothing


def test_run_refuses_bad_arguments(tmp_path):
  assert _run("launch/gpu_run.sh").returncode == 2
  assert _run("launch/gpu_run.sh", "soon", tmp_path / "out").returncode == 2
  result = _run("launch/gpu_run.sh", "60", tmp_path / "out",
                env=_env(HRNNVAE_GPU_CARRY=str(tmp_path / "missing")))
  assert result.returncode == 2 and "gpu_prepare.sh" in result.stderr


def _wheel(folder: pathlib.Path, name: str) -> str:
  """A pure-Python wheel of one module, `name`, that sets VALUE = 42."""
  path = folder / f"{name}-0.1-py3-none-any.whl"
  dist = f"{name}-0.1.dist-info"
  files = {f"{name}/__init__.py": "VALUE = 42\n",
           f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n",
           f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
  files[f"{dist}/RECORD"] = "".join(f"{n},,\n" for n in [*files, f"{dist}/RECORD"])
  with zipfile.ZipFile(path, "w") as archive:
    for arcname, text in files.items():
      archive.writestr(arcname, text)
  return path.name


def test_run_installs_only_the_missing_wheels(tmp_path):
  carry = tmp_path / "carry"
  (carry / "caches").mkdir(parents=True)
  (carry / "wheels").mkdir()
  probe = _wheel(carry / "wheels", "hrnnvae_gpu_probe")
  # json imports already, so its (absent) wheel must not even be looked at
  (carry / "wheels" / "modules.txt").write_text(
      f"{probe} hrnnvae_gpu_probe fallback\nabsent-1.0-py3-none-any.whl json required\n")
  out = tmp_path / "out"
  result = _run("launch/gpu_run.sh", 60, out,
                env=_env(HRNNVAE_GPU_CARRY=str(carry), HRNNVAE_GPU_RUN_SETUP_ONLY="1"))
  assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
  assert f"installing {probe}" in result.stdout and "absent" not in result.stdout
  assert (out / "site" / "hrnnvae_gpu_probe" / "__init__.py").is_file()
  probe_import = subprocess.run([sys.executable, "-c", "import hrnnvae_gpu_probe as p; print(p.VALUE)"],
                                env=_env(PYTHONPATH=str(out / "site")), capture_output=True, text=True)
  assert probe_import.stdout.strip() == "42", probe_import.stderr
  assert "jax: " in (out / "logs" / "device.log").read_text()  # what the device check saw


def _gpu_run(budget: int, out: pathlib.Path, carry: pathlib.Path) -> tuple[dict, str]:
  result = _run("launch/gpu_run.sh", budget, out, timeout=budget + 120,
                env=_env(HRNNVAE_GPU_RUN_TINY="1", HRNNVAE_GPU_CARRY=str(carry)))
  output = result.stdout + result.stderr
  assert result.returncode == 0, output[-4000:]
  pack = out / "pack"
  files = sorted(pack.iterdir())
  # what comes back from the device machine: at most 8 files of at most 16 MB
  assert 1 <= len(files) <= 8 and all(f.is_file() and f.stat().st_size <= 16 * MB for f in files)
  return json.loads((pack / "summary.json").read_text()), output


@pytest.mark.slow
def test_tiny_end_to_end_then_resume(datasets_root, tmp_path):
  carry = tmp_path / "carry"
  result = _run("launch/gpu_prepare.sh", carry, "--limit=40", "--no-wheels",
                f"--datasets={datasets_root}")
  assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
  for dataset in ("nottingham", "jsb_chorales"):  # only what train and eval read
    assert sorted(p.name for p in (carry / "caches" / dataset).iterdir()) == [
        "examples.npz", "manifest.json"]

  out = tmp_path / "out"
  first, output = _gpu_run(240, out, carry)
  print(output)
  pack = out / "pack"
  names = set(first["runs"])
  assert names == {"nottingham", "jsb_chorales", "nottingham_lstm_lm"}
  assert first["pack"]["exports"], first
  parts = sorted(pack.glob("exports.tar.gz*"))
  unpacked = tmp_path / "unpacked"
  unpacked.mkdir()
  with open(unpacked / "exports.tar.gz", "wb") as whole:  # one file, or parts to join
    for part in parts:
      whole.write(part.read_bytes())
  with tarfile.open(unpacked / "exports.tar.gz") as archive:
    archive.extractall(unpacked, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
  for name in first["pack"]["exports"]:  # each packed export samples
    sampled = subprocess.run(
        [sys.executable, "-m", "hrnnvae.sample_main", f"--workdir={unpacked / 'runs' / name}",
         "--bars=1", "--noaudio", f"--output_dir={tmp_path / 'samples' / name}"],
        capture_output=True, text=True, timeout=300)
    assert sampled.returncode == 0, sampled.stderr[-2000:]
    assert (unpacked / "runs" / name / "metrics.jsonl").is_file()
  with tarfile.open(pack / "eval.tar.gz") as archive:
    reports = [n for n in archive.getnames() if n.endswith("/report.md")]
  assert "eval_nottingham/report.md" in reports, (reports, first["eval"])
  # The deadline's SIGINT skips the trainer's own latent-prior fit: gpu_run fits it before eval.
  assert (unpacked / "runs" / "nottingham" / "export" / "latent_prior.npz").is_file()
  assert not (unpacked / "runs" / "nottingham_lstm_lm" / "export" / "latent_prior.npz").exists()
  with tarfile.open(pack / "logs.tar.gz") as archive:
    assert {f"logs/{name}.log" for name in names} <= set(archive.getnames())
  for name, run in first["runs"].items():
    assert run["status"] in ("interrupted", "done"), (name, run)

  second, output = _gpu_run(200, out, carry)
  print(output)
  assert [call["call"] for call in second["calls"]] == [1, 2]
  for kind, bench in first["bench"].items():  # a benchmark done once is not run again
    if bench["written"]:
      assert second["calls"][1]["bench"][kind]["status"] == "earlier", second["calls"][1]["bench"]
  for name, run in second["runs"].items():  # each went on from its checkpoint, or was done
    assert run["status"] == "earlier" or run["step"] > first["runs"][name]["step"], (name, run)
