"""Ships a trained model inside the package, for `hrnnvae-sample --pretrained=NAME` with no training.

  python launch/ship_pretrained.py --export=runs/nottingham/export --name=nottingham \
      --cache=runs/nottingham/data --device="1x NVIDIA H100" --wall_time_s=5400 \
      --command="hrnnvae-train --config=configs/nottingham.py --workdir=runs/nottingham"

Writes hrnnvae/pretrained/NAME/ (or --out_root/NAME/): params.msgpack (the export's parameters as
flax msgpack: one small file, no orbax version or machine in it, no pickle), config.json (as
exported), latent_prior.npz (when the export has a fitted latent prior) and manifest.json
(provenance, parameter count, size, and the test split's likelihood figures from
hrnnvae.evaluate.likelihood_row, measured now on the shipped copy, with the dataset name and a
digest of the test split). It replaces an earlier model of the same name, and refuses
(exit 2) a model over --max_bytes or a cache of another dataset than the model's.
"""

import datetime
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import flax
import jax
import numpy as np
from absl import app, flags
from flax import serialization

import hrnnvae
from hrnnvae import evaluate, exports, pretrained
from hrnnvae import latent_prior as latent_prior_lib
from hrnnvae.data import cache as cache_lib
from hrnnvae.exports import PARAMS_FILE
from hrnnvae.sample import SampleError, Sampler

ROOT = pathlib.Path(__file__).resolve().parent.parent

_EXPORT = flags.DEFINE_string("export", None, "A training run's export/ folder.", required=True)
_NAME = flags.DEFINE_string("name", None, "The shipped model's name, e.g. nottingham.", required=True)
_CACHE = flags.DEFINE_string("cache", None, "The prepared cache whose test split is measured.",
                             required=True)
_COMMAND = flags.DEFINE_string("command", None, "The command that trained the model.", required=True)
_DEVICE = flags.DEFINE_string("device", None, "What it trained on, e.g. '1x NVIDIA H100'.",
                              required=True)
_WALL_TIME_S = flags.DEFINE_float("wall_time_s", None, "Training wall time in seconds.",
                                  required=True)
_OUT_ROOT = flags.DEFINE_string(
    "out_root", None, f"Where NAME/ goes (default: ${pretrained.ENV_VAR}, else hrnnvae/pretrained).")
_MAX_BYTES = flags.DEFINE_integer("max_bytes", 10_000_000, "Refuse a model larger than this.")
_GUIDANCE = flags.DEFINE_float("emotion_guidance", None, "The shipped model's default emotion "
                               "guidance (config.json's sampling facts; default: the export's).")
_TRANSFER_SHIFT = flags.DEFINE_float("transfer_shift", None, "The shipped model's default "
                                     "transfer shift (default: the export's).")


class ShipError(Exception):
  """A model that cannot be shipped; the message names the fix."""


def _git(*args: str) -> str | None:
  try:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                          check=True, timeout=30).stdout.strip()
  except (OSError, subprocess.SubprocessError):
    return None


def _count(tree) -> int:
  return int(sum(np.size(leaf) for leaf in jax.tree.leaves(tree)))


def _read_export(export_dir: pathlib.Path) -> tuple[bytes, bytes, dict]:
  """(params.msgpack bytes, config.json bytes, parameter counts) of a run's export/."""
  if not (export_dir / "config.json").is_file():
    raise ShipError(f"no exported model in {export_dir}: pass a training run's export/ folder")
  try:
    params, _ = exports.load_export(export_dir)
  except Exception as error:  # noqa: BLE001 - any failure means an unreadable export
    raise ShipError(f"{export_dir} is not a readable hrnnvae export ({type(error).__name__}: "
                    f"{str(error)[:200]})") from error
  params = jax.tree.map(np.asarray, jax.device_get(params))
  counts = {part: _count(params[part]) for part in params}
  return (serialization.msgpack_serialize(params), (export_dir / "config.json").read_bytes(),
          counts)


def _measure(model_dir: pathlib.Path, arrays: dict) -> dict:
  """Test-split likelihood figures of the model as shipped (read back from model_dir)."""
  try:
    sampler = Sampler.load(model_dir)
  except SampleError as error:
    raise ShipError(f"the shipped copy does not load: {error}") from error
  row = evaluate.likelihood_row(sampler, arrays)
  return {k: float(v) if np.isfinite(v) else None for k, v in row.items()}  # None: no such figure


def ship(export_dir: pathlib.Path, name: str, cache_dir: pathlib.Path, out_root: pathlib.Path,
         provenance: dict, max_bytes: int, sampling: dict | None = None) -> pathlib.Path:
  """Writes out_root/name/ (params.msgpack, config.json, manifest.json); returns it.

  sampling: sampling facts ({'emotion_guidance', 'transfer_shift'}) that replace the export's in
  the shipped config.json (the settings measured best for this model)."""
  if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name):
    raise ShipError(f"--name={name!r} must be letters, digits, _ or - (it names a folder)")
  params_bytes, config_bytes, counts = _read_export(export_dir)
  if sampling:
    description = json.loads(config_bytes)
    description["sampling"] = {**description.get("sampling", {}), **sampling}
    config_bytes = json.dumps(description, indent=1).encode()
  prior_path = export_dir / latent_prior_lib.FILE  # the fitted latent prior, when it has one
  prior_bytes = prior_path.read_bytes() if prior_path.is_file() else b""
  size = len(params_bytes) + len(config_bytes) + len(prior_bytes)
  if size > max_bytes:
    raise ShipError(f"{export_dir} would take {size:,} bytes, over the {max_bytes:,}-byte limit "
                    "for a model in the package; ship a smaller model")
  try:
    arrays, cache_manifest = cache_lib.load(cache_dir)
  except cache_lib.CacheError as error:
    raise ShipError(str(error)) from error
  trained_on = json.loads(config_bytes)["data"].get("dataset")
  if trained_on and trained_on != cache_manifest["dataset"]:
    raise ShipError(f"{cache_dir} holds {cache_manifest['dataset']}, but the model trained on "
                    f"{trained_on}: pass that dataset's cache")
  digest, melodies = pretrained.digest_of_test_split(arrays)
  if not melodies:
    raise ShipError(f"{cache_dir} has no test split to measure the model on")

  out_root.mkdir(parents=True, exist_ok=True)
  staging, final = out_root / f".{name}.tmp", out_root / name
  shutil.rmtree(staging, ignore_errors=True)
  staging.mkdir()
  try:
    (staging / PARAMS_FILE).write_bytes(params_bytes)
    (staging / "config.json").write_bytes(config_bytes)
    files = {PARAMS_FILE: len(params_bytes), "config.json": len(config_bytes)}
    if prior_bytes:
      (staging / latent_prior_lib.FILE).write_bytes(prior_bytes)
      files[latent_prior_lib.FILE] = len(prior_bytes)
    commit = _git("rev-parse", "HEAD")  # None outside a git checkout
    manifest = {
        "name": name, **provenance, "steps": json.loads(config_bytes)["step"],
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": commit,
        "git_dirty": commit and bool(_git("status", "--porcelain", "--untracked-files=no")),
        "parameter_count": sum(counts.values()), "parameter_counts": counts,
        "size_bytes": size, "files": files,
        "prior": "fitted" if prior_bytes else "standard",
        "dataset": cache_manifest["dataset"],
        "test_split": {"melodies": melodies, "sha256": digest,
                       "cache_fingerprint": cache_manifest.get("fingerprint")},
        "test_metrics": _measure(staging, arrays),
        "measured_with": {"hrnnvae": hrnnvae.__version__, "jax": jax.__version__,
                          "flax": flax.__version__, "backend": jax.default_backend()},
        "source_export": str(export_dir.absolute()),
    }
    (staging / pretrained.MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    os.replace(staging, final)
  finally:
    shutil.rmtree(staging, ignore_errors=True)
  return final


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  exports.quiet_orbax_logging()
  out_root = pathlib.Path(_OUT_ROOT.value or os.environ.get(pretrained.ENV_VAR)
                          or ROOT / "hrnnvae" / "pretrained")
  provenance = {"command": _COMMAND.value, "device": _DEVICE.value,
                "wall_time_s": _WALL_TIME_S.value}
  try:
    sampling = {key: flag.value for key, flag in (("emotion_guidance", _GUIDANCE),
                                                   ("transfer_shift", _TRANSFER_SHIFT))
                if flag.value is not None}
    final = ship(pathlib.Path(_EXPORT.value), _NAME.value, pathlib.Path(_CACHE.value), out_root,
                 provenance, _MAX_BYTES.value, sampling)
  except ShipError as error:
    print(f"ship_pretrained: {error}", file=sys.stderr)
    sys.exit(2)
  manifest = json.loads((final / pretrained.MANIFEST_FILE).read_text())
  metrics = manifest["test_metrics"]
  print(f"shipped {final} ({manifest['size_bytes']:,} bytes, {manifest['parameter_count']:,} "
        f"parameters, step {manifest['steps']}): test teacher-forced accuracy "
        f"{metrics['teacher_forced_accuracy']:.4f}, sampled accuracy {metrics['sampled_accuracy']:.4f}, "
        f"cross-entropy {metrics['cross_entropy_per_step']:.4f} nats/step; try "
        f"`hrnnvae-sample --pretrained={_NAME.value}`")


if __name__ == "__main__":
  app.run(main)
