"""Models shipped inside the package: sample with no training.

  hrnnvae-sample --pretrained=nottingham --emotion=happy,sad --bars=32

Each model lives in `hrnnvae/pretrained/<name>/`, written by launch/ship_pretrained.py:
  params.msgpack  the {'vae', 'emotion'} parameters (flax msgpack: one file, no orbax, no pickle)
  config.json     the training run's export description (config, model hyperparameters, data facts)
  manifest.json   provenance (command, commit, device, steps, wall time, date), parameter count,
                  size, and the test-split likelihood figures measured on the shipped copy, with
                  the dataset name and a digest of the test split they were measured on.
$HRNNVAE_PRETRAINED_DIR, when set, replaces this folder (tests ship into a temporary one).
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib

import numpy as np

from hrnnvae.data import sources as sources_lib
from hrnnvae.exports import model_dir
from hrnnvae.sample import SampleError, Sampler

ENV_VAR = "HRNNVAE_PRETRAINED_DIR"
MANIFEST_FILE = "manifest.json"
PACKAGE_ROOT = pathlib.Path(__file__).parent
SHIP_COMMAND = "python launch/ship_pretrained.py --export=RUN/export --name=NAME --cache=CACHE ..."


def root() -> pathlib.Path:
  """The folder that holds the shipped models: $HRNNVAE_PRETRAINED_DIR, else this package."""
  return pathlib.Path(os.environ.get(ENV_VAR) or PACKAGE_ROOT)


def pretrained_dir(name: str) -> pathlib.Path:
  return root() / name


def available() -> list[str]:
  """Names of the complete shipped models (those with a manifest), sorted."""
  if not root().is_dir():
    return []
  return sorted(path.name for path in root().iterdir()
                if not path.name.startswith((".", "_")) and (path / MANIFEST_FILE).is_file())


def manifest(name: str) -> dict:
  return json.loads((pretrained_dir(name) / MANIFEST_FILE).read_text())


def load(name: str) -> Sampler:
  """The shipped model `name`; SampleError listing the available ones (or how to ship one)."""
  names = available()
  if name not in names:
    if not names:
      raise SampleError(f"no pretrained model has been shipped in {root()} yet: ship one with "
                        f"`{SHIP_COMMAND}`, or train one and pass --workdir=DIR")
    raise SampleError(f"unknown pretrained model {name!r}: available: {', '.join(names)}")
  return Sampler.load(pretrained_dir(name))


def load_chosen(name: str | None = None, run: str | None = None) -> Sampler:
  """The model a tool's flags chose: the shipped model `name` (--pretrained), else `run`, a
  training run's folder or its export/ (--workdir or --checkpoint); SampleError naming the three
  flags and the shipped models when neither is given."""
  if name:
    return load(name)
  if run:
    return Sampler.load(model_dir(run))
  shipped = ", ".join(available()) or "none shipped yet"
  raise SampleError("pass --workdir=DIR (the folder `hrnnvae-train --workdir=...` wrote), "
                    "--checkpoint=DIR/export, or --pretrained=NAME (shipped in the package: "
                    f"{shipped})")


def load_model(model: str | pathlib.Path) -> Sampler:
  """A model the tools can name: a training run's folder (its export/ is read), an export
  folder, or the name of a shipped model."""
  path = pathlib.Path(model)
  if (path / "export" / "config.json").is_file():
    return Sampler.load(path / "export")
  if (path / "config.json").is_file():
    return Sampler.load(path)
  return load(str(model))


def digest_of_test_split(arrays: dict[str, np.ndarray]) -> tuple[str, int]:
  """(sha256, melodies) of a cache's test split as the likelihood figures read it: each
  untransposed test window's length, steps_per_bar, emotion and events, in cache order."""
  rows = np.nonzero((arrays["split"] == sources_lib.SPLITS.index("test"))
                    & (arrays["transposition"] == 0))[0]
  digest = hashlib.sha256()
  for row in rows:
    length = int(arrays["lengths"][row])
    digest.update(np.array([length, arrays["steps_per_bar"][row], arrays["emotion"][row]],
                           np.int64).tobytes())
    digest.update(np.asarray(arrays["events"][row, :length], np.int8).tobytes())
  return digest.hexdigest(), len(rows)
