"""Orbax checkpoints: `latest` (for resume), `best` (by validation loss), and `export/`.

`export/` is what sampling needs and nothing else: the best VAE and emotion-classifier
parameters (`export/params`) and `export/config.json` (the run's config, the model
hyperparameters, and the data facts needed to write MIDI: meters, tempo, emotion names).
"""

from __future__ import annotations

import json
import logging as std_logging
import pathlib
import shutil

import jax
import orbax.checkpoint as ocp
from absl import logging

from hrnnvae.models.hparams import ModelHParams


def quiet_orbax_logging() -> None:
  """Orbax logs every save and load at INFO; keep its warnings and errors only (for the CLIs)."""
  logging.get_absl_logger().addFilter(
      lambda record: "orbax" not in record.pathname or record.levelno >= std_logging.WARNING)


class Checkpoints:
  def __init__(self, workdir: str | pathlib.Path):
    root = pathlib.Path(workdir).absolute() / "checkpoints"
    options = ocp.CheckpointManagerOptions(max_to_keep=1, create=True)
    self.latest = ocp.CheckpointManager(root / "latest", options=options)
    self.best = ocp.CheckpointManager(root / "best", options=options)
    self.export_dir = pathlib.Path(workdir).absolute() / "export"

  def save_latest(self, state) -> None:
    step = int(jax.device_get(state.step))
    if self.latest.latest_step() != step:  # max_steps can land on a periodic save
      self.latest.save(step, args=ocp.args.StandardSave(state))

  def save_best(self, state) -> None:
    self.best.save(int(jax.device_get(state.step)), args=ocp.args.StandardSave(state))

  def restore_latest(self, abstract_state):
    """The latest complete checkpoint restored into `abstract_state`'s structure, or None."""
    step = self.latest.latest_step()
    if step is None:
      return None
    return self.latest.restore(step, args=ocp.args.StandardRestore(abstract_state))

  def export(self, state, config, hp: ModelHParams, data_facts: dict) -> None:
    """Writes export/ whole or not at all: into export.partial/, then renamed into place."""
    params = {"vae": state.vae_params, "emotion": state.emotion_params}
    partial = self.export_dir.with_name("export.partial")
    shutil.rmtree(partial, ignore_errors=True)
    with ocp.StandardCheckpointer() as checkpointer:
      checkpointer.save(partial / "params", jax.device_get(params))
    description = {"config": config.to_dict(), "model": hp.__dict__, "data": data_facts,
                   "step": int(jax.device_get(state.step))}
    if "sample" in config:
      description["sampling"] = config.sample.to_dict()
    (partial / "config.json").write_text(json.dumps(description, indent=1, default=str))
    old = self.export_dir.with_name("export.old")
    shutil.rmtree(old, ignore_errors=True)
    if self.export_dir.exists():
      self.export_dir.rename(old)
    partial.rename(self.export_dir)
    shutil.rmtree(old, ignore_errors=True)

  def wait(self) -> None:
    self.latest.wait_until_finished()
    self.best.wait_until_finished()

  def close(self) -> None:
    self.latest.close()
    self.best.close()


def load_export(export_dir: str | pathlib.Path) -> tuple[dict, dict]:
  """(params {'vae', 'emotion'}, description) from a run's `export/`."""
  export_dir = pathlib.Path(export_dir).absolute()
  description = json.loads((export_dir / "config.json").read_text())
  with ocp.StandardCheckpointer() as checkpointer:
    params = checkpointer.restore(export_dir / "params")
  return params, description


def rewrite_export(export_dir: str | pathlib.Path, params: dict, description: dict) -> None:
  """Replaces an export's parameters and config.json (a post-training fit: classifier_fit.py),
  the parameters written beside the old ones and then swapped in, so a crash leaves one whole."""
  export_dir = pathlib.Path(export_dir).absolute()
  partial, old = export_dir / "params.partial", export_dir / "params.old"
  shutil.rmtree(partial, ignore_errors=True)
  with ocp.StandardCheckpointer() as checkpointer:
    checkpointer.save(partial, jax.device_get(params))
  shutil.rmtree(old, ignore_errors=True)
  (export_dir / "params").rename(old)
  partial.rename(export_dir / "params")
  shutil.rmtree(old, ignore_errors=True)
  (export_dir / "config.json").write_text(json.dumps(description, indent=1, default=str))
