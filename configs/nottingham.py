"""Nottingham folk tunes, the paper's first dataset.

  hrnnvae-data prepare --dataset=nottingham --source=DIR --out=runs/nottingham_aug/data --transpose=5
  hrnnvae-train --config=configs/nottingham.py --workdir=runs/nottingham
Trained on copies transposed by up to 5 semitones each way (11x the windows; the test split and
the counting floor use the tunes as written), with a 256-dimensional latent and 256 free nats:
on the CPU config that raised test accuracy from 0.807 to 0.836 (BUILD_NOTES.md, issue 8).
An ablation: --config=configs/nottingham.py:no_vae (see default.py for the variants). BUILD_NOTES.md
records the measured steps/s and run times.
"""

import pathlib
import runpy

_default = runpy.run_path(str(pathlib.Path(__file__).with_name("default.py")))


def get_config(arg=None):
  config = _default["get_config"]()
  config.data.cache_dir = "runs/nottingham_aug/data"
  config.model.latent_dim = 256
  config.loss.free_bits = 256.0  # MusicVAE's 16-bar models
  return _default["apply_variants"](config, arg)
