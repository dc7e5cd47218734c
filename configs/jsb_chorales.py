"""JSB Chorales (soprano melodies, the 229/76/77 split), the paper's second dataset.

  hrnnvae-data prepare --dataset=jsb_chorales --source=DIR --out=runs/jsb_chorales/data
  hrnnvae-train --config=configs/jsb_chorales.py --workdir=runs/jsb_chorales
JSB has 367 training windows, so an epoch is only 5 steps of 64: the KL warm-up is shorter.
"""

import pathlib
import runpy

_default = runpy.run_path(str(pathlib.Path(__file__).with_name("default.py")))


def get_config(arg=None):
  config = _default["get_config"]()
  config.data.cache_dir = "runs/jsb_chorales/data"
  config.loss.kl_warmup_steps = 500
  return _default["apply_variants"](config, arg)
