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
