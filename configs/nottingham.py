"""Nottingham folk tunes, the paper's first dataset.

  hrnnvae-data prepare --dataset=nottingham --source=DIR --out=runs/nottingham/data
  hrnnvae-train --config=configs/nottingham.py --workdir=runs/nottingham
An ablation: --config=configs/nottingham.py:no_vae (see default.py for the variants). BUILD_NOTES.md
records the measured steps/s and run times.
"""

import pathlib
import runpy

_default = runpy.run_path(str(pathlib.Path(__file__).with_name("default.py")))


def get_config(arg=None):
  config = _default["get_config"]()
  config.data.cache_dir = "runs/nottingham/data"
  return _default["apply_variants"](config, arg)
