"""A trained model on disk: a run's `export/` (orbax) or a shipped model's folder (msgpack).

`export/` is what sampling needs and nothing else: the best VAE and emotion-classifier
parameters (`export/params`) and `export/config.json` (the run's config, the model
hyperparameters, the data facts needed to write MIDI: meters, tempo, emotion names, and the
model's own sampling settings). A shipped model (`hrnnvae/pretrained/NAME/`) holds the same
config.json beside `params.msgpack`. The trainer writes exports, every tool reads them; this
module imports neither.
"""

from __future__ import annotations

import json
import logging as std_logging
import pathlib
import shutil

import jax
import orbax.checkpoint as ocp
from absl import logging
from flax import serialization

PARAMS_FILE = "params.msgpack"  # a shipped model's {'vae', 'emotion'} parameters


def quiet_orbax_logging() -> None:
  """Orbax logs every save and load at INFO; keep its warnings and errors only (for the CLIs)."""
  logging.get_absl_logger().addFilter(
      lambda record: "orbax" not in record.pathname or record.levelno >= std_logging.WARNING)


# The emotion guidance of prior samples asked for each quadrant (0: the model's
# emotion_guidance), in data/emotion.EMOTIONS' order.
QUADRANT_GUIDANCE_KEYS = ("guidance_happy", "guidance_tense", "guidance_sad", "guidance_calm")
# What exports written before a sampling setting was recorded were sampled with: history, not a
# default (configs/default.py's `sample` section holds those; every new export records them all).
_SAMPLING_BEFORE_RECORDED = {"temperature": 0.5, "top_p": 1.0, "emotion_guidance": 1.0,
                             "repeat_penalty": 1.0, "short_note_penalty": 1.0,
                             "transfer_shift": 0.0, "transfer_keep": 0.0,
                             "transfer_guidance": 1.0, "transfer_edits": 0.0, "candidates": 1.0,
                             "attention_bars": 0.0, "section_bars": 0.0,
                             "section_correlation": 0.0, "section_repeats": 1.0,
                             **{key: 0.0 for key in QUADRANT_GUIDANCE_KEYS}}
SAMPLING_KEYS = tuple(_SAMPLING_BEFORE_RECORDED)  # every sampling setting a model records


def sampling_settings(description: dict) -> dict:
  """The model's own sampling settings (config.json's "sampling" facts): temperature, top_p,
  emotion_guidance, repeat_penalty, short_note_penalty, transfer_shift, transfer_keep,
  transfer_guidance, transfer_edits, candidates, attention_bars, section_bars,
  section_correlation, section_repeats and the quadrants' guidances, each filled in for exports
  made before it was recorded (transfer_guidance: the model's emotion_guidance, which transfers
  decoded with before it had its own)."""
  own = description.get("sampling", {})
  settings = {**_SAMPLING_BEFORE_RECORDED, **own}
  if "transfer_guidance" not in own:
    settings["transfer_guidance"] = settings["emotion_guidance"]
  return settings


def write_export(export_dir: str | pathlib.Path, params: dict, description: dict) -> None:
  """Writes export/ whole or not at all: into export.partial/, then renamed into place."""
  export_dir = pathlib.Path(export_dir).absolute()
  partial = export_dir.with_name("export.partial")
  shutil.rmtree(partial, ignore_errors=True)
  with ocp.StandardCheckpointer() as checkpointer:
    checkpointer.save(partial / "params", jax.device_get(params))
  (partial / "config.json").write_text(json.dumps(description, indent=1, default=str))
  old = export_dir.with_name("export.old")
  shutil.rmtree(old, ignore_errors=True)
  if export_dir.exists():
    export_dir.rename(old)
  partial.rename(export_dir)
  shutil.rmtree(old, ignore_errors=True)


def load_export(export_dir: str | pathlib.Path) -> tuple[dict, dict]:
  """(params {'vae', 'emotion'}, description) from a run's `export/`."""
  export_dir = pathlib.Path(export_dir).absolute()
  description = json.loads((export_dir / "config.json").read_text())
  with ocp.StandardCheckpointer() as checkpointer:
    params = checkpointer.restore(export_dir / "params")
  return params, description


def rewrite_export(export_dir: str | pathlib.Path, params: dict, description: dict) -> None:
  """Replaces an export's parameters and config.json (a post-training fit), the parameters
  written beside the old ones and then swapped in, so a crash leaves one whole."""
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


def model_dir(path: str | pathlib.Path) -> pathlib.Path:
  """The export folder that a path names: a training run's folder (its export/) or the export
  folder itself (Magenta's --checkpoint convention)."""
  path = pathlib.Path(path)
  return path if (path / "config.json").is_file() else path / "export"


def read_model(folder: str | pathlib.Path) -> tuple[dict, dict]:
  """(params, description) of an export/ (orbax) or a shipped model (msgpack)."""
  folder = pathlib.Path(folder)
  if not (folder / PARAMS_FILE).is_file():
    return load_export(folder)
  description = json.loads((folder / "config.json").read_text())
  return serialization.msgpack_restore((folder / PARAMS_FILE).read_bytes()), description
