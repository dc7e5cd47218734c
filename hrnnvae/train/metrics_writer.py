"""Scalars to `metrics.jsonl` (one JSON object a line) and TensorBoard event files."""

from __future__ import annotations

import json
import pathlib

import numpy as np
from tensorboardX import SummaryWriter


class MetricsWriter:
  def __init__(self, workdir: str | pathlib.Path, enabled: bool = True):
    self.enabled = enabled  # only process 0 writes
    if enabled:
      self._jsonl = open(pathlib.Path(workdir) / "metrics.jsonl", "a", buffering=1)
      self._tensorboard = SummaryWriter(str(pathlib.Path(workdir) / "tensorboard"))

  def write(self, step: int, scalars: dict, prefix: str = "") -> None:
    if not self.enabled:
      return
    values = {f"{prefix}{k}": float(np.asarray(v)) for k, v in scalars.items()}
    self._jsonl.write(json.dumps({"step": step, **values}) + "\n")
    for name, value in values.items():
      self._tensorboard.add_scalar(name, value, step)

  def write_hparams(self, config_dict: dict) -> None:
    if self.enabled:
      self._tensorboard.add_text("config", "```\n" + json.dumps(config_dict, indent=1) + "\n```")

  def close(self) -> None:
    if self.enabled:
      self._jsonl.close()
      self._tensorboard.close()
