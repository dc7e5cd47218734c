"""Shared fixtures: where the real datasets are (HRNNVAE_DATASETS), and music built by hand."""

import os
import pathlib

import numpy as np
import pytest

from hrnnvae.data import events as events_lib


def _datasets_root() -> pathlib.Path:
  """The real datasets; in CI their absence fails, elsewhere it skips with the reason."""
  root = os.environ.get("HRNNVAE_DATASETS")
  if root and pathlib.Path(root, "nottingham").is_dir() and pathlib.Path(root, "jsb_chorales").is_dir():
    return pathlib.Path(root)
  reason = (f"real datasets not found (HRNNVAE_DATASETS={root!r}); set it to a folder holding "
            "nottingham/ and jsb_chorales/")
  if os.environ.get("CI"):
    pytest.fail(reason)
  pytest.skip(reason)


@pytest.fixture(scope="session")
def datasets_root() -> pathlib.Path:
  return _datasets_root()


def prepare_real(dataset: str, source: pathlib.Path, tmp_path_factory, limit=None):
  """(cache dir, arrays, manifest) of a real dataset prepared with the default options."""
  from hrnnvae.data import cache as cache_lib
  from hrnnvae.data import prepare as prepare_lib
  out = tmp_path_factory.mktemp(dataset)
  manifest = prepare_lib.prepare(prepare_lib.make_source(dataset, str(source), limit), str(out),
                                 progress=False, log=lambda _: None)
  arrays, _ = cache_lib.load(out)
  return out, arrays, manifest


@pytest.fixture(scope="session")
def nottingham(datasets_root, tmp_path_factory):
  """Every Nottingham tune, prepared once per test session."""
  return prepare_real("nottingham", datasets_root / "nottingham", tmp_path_factory)


def melody(*notes: tuple[int, int], steps: int) -> np.ndarray:
  """Events [steps] from (pitch, duration_steps) notes played one after another; pitch None rests."""
  events = np.zeros(steps, np.int8)
  step = 0
  for pitch, duration in notes:
    if pitch is None:
      events[step] = events_lib.NOTE_OFF
    else:
      events[step] = events_lib.pitch_to_event(pitch)
    step += duration
  if step < steps:
    events[step] = events_lib.NOTE_OFF
  return events


@pytest.fixture(scope="session")
def nottingham_40(datasets_root, tmp_path_factory):
  """The first 40 Nottingham tunes (about 240 training windows): epochs of a few steps."""
  return prepare_real("nottingham", datasets_root / "nottingham", tmp_path_factory, limit=40)


@pytest.fixture(scope="session")
def tiny_workdir(nottingham_40, tmp_path_factory):
  """The tiny model trained for one epoch (15 steps) on real tunes, with its export/."""
  import runpy

  from hrnnvae.train import train
  config = runpy.run_path(str(pathlib.Path(__file__).parent.parent / "configs" / "tiny.py"))[
      "get_config"]()
  config.data.cache_dir = str(nottingham_40[0])
  config.train.max_steps = 15
  workdir = tmp_path_factory.mktemp("tiny_run")
  train.train_and_evaluate(config, str(workdir))
  return workdir
