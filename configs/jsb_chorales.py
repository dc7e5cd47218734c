"""JSB Chorales (soprano melodies, the 229/76/77 split), the paper's second dataset.

  hrnnvae-data prepare --dataset=jsb_chorales --source=DIR --out=runs/jsb_chorales/data
  hrnnvae-train --config=configs/jsb_chorales.py --workdir=runs/jsb_chorales
JSB has 367 training windows, so an epoch is only 5 steps of 64: prepare it with --transpose=5
(about 11x the windows), validate every 100 steps and count patience in validations.
"""

import pathlib
import runpy

_default = runpy.run_path(str(pathlib.Path(__file__).with_name("default.py")))


def get_config(arg=None):
  config = _default["get_config"]()
  config.data.cache_dir = "runs/jsb_chorales/data"
  config.loss.kl_warmup_steps = 1000
  config.loss.aux_start_step = 2500
  config.train.eval_every_steps = 100
  config.train.patience = 10
  return _default["apply_variants"](config, arg)
