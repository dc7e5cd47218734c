"""Orbax checkpoints: `latest` (for resume), `best` (by validation loss), and `export/`
(written through hrnnvae/exports.py, which every tool reads)."""

from __future__ import annotations

import pathlib

import jax
import orbax.checkpoint as ocp

from hrnnvae import exports
from hrnnvae.models.hparams import ModelHParams


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
    """Writes export/ (exports.py) from the state's VAE and emotion-classifier parameters."""
    params = {"vae": state.vae_params, "emotion": state.emotion_params}
    description = {"config": config.to_dict(), "model": hp.__dict__, "data": data_facts,
                   "step": int(jax.device_get(state.step))}
    if "sample" in config:
      description["sampling"] = config.sample.to_dict()
    exports.write_export(self.export_dir, params, description)

  def wait(self) -> None:
    self.latest.wait_until_finished()
    self.best.wait_until_finished()

  def close(self) -> None:
    self.latest.close()
    self.best.close()
