"""JSB Chorales (soprano) on a 2-core CPU, sized for 229 chorales (BUILD_NOTES.md).

  hrnnvae-data prepare --dataset=jsb_chorales --source=DIR --out=runs/jsb_chorales/data --transpose=5
  hrnnvae-train --config=configs/jsb_chorales_cpu.py --workdir=runs/jsb_chorales_cpu
367 training windows are too few for the epoch-based recipe (5 steps an epoch at batch 64):
transposed copies (+-5 semitones) make ~11x as many, batches are 32, and validation runs every
100 steps with a patience of 8 validations.
"""

import pathlib
import runpy

_default = runpy.run_path(str(pathlib.Path(__file__).with_name("default.py")))


def get_config(arg=None):
  config = _default["get_config"]()
  config.data.cache_dir = "runs/jsb_chorales/data"
  _default["set_rnn_width"](config, 128)
  config.model.latent_dim = 128
  config.model.attention_dim = 64
  config.model.attention_window_bars = 4
  config.loss.free_bits = 128.0
  config.loss.kl_warmup_steps = 600
  config.loss.aux_start_step = 1200
  config.train.batch_size = 32
  config.train.lr_batch_scaling = "none"  # its learning rate was measured at this batch
  config.train.eval_every_steps = 100
  config.train.patience = 8
  config.train.min_steps = 400
  config.train.max_steps = 2000
  config.train.eval_prior_samples = 16
  return _default["apply_variants"](config, arg)
