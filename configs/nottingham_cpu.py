"""Nottingham on a 2-core CPU: trains to early stopping in under an hour (BUILD_NOTES.md).

  hrnnvae-data prepare --dataset=nottingham --source=DIR --out=runs/nottingham/data
  hrnnvae-train --config=configs/nottingham_cpu.py --workdir=runs/nottingham_cpu
The paper-size model is configs/nottingham.py (for a GPU). This one is narrower (128 units),
attends over the last 4 bars instead of all history, and validates every 150 steps.
"""

import pathlib
import runpy

_default = runpy.run_path(str(pathlib.Path(__file__).with_name("default.py")))


def get_config(arg=None):
  config = _default["get_config"]()
  config.data.cache_dir = "runs/nottingham/data"
  _default["set_rnn_width"](config, 128)
  config.model.latent_dim = 128
  config.model.attention_dim = 64
  config.model.attention_window_bars = 4
  config.loss.free_bits = 128.0  # MusicVAE's 16-bar models allow 256
  config.loss.kl_warmup_steps = 1000
  config.loss.aux_start_step = 2800
  config.train.batch_size = 32  # 2.9x the steps/s of 64 on 2 cores (cache-bound)
  config.train.lr_batch_scaling = "none"  # its learning rate was measured at this batch
  config.train.eval_every_steps = 200
  config.train.patience = 6
  config.train.min_steps = 600
  config.train.max_steps = 4000
  config.train.eval_prior_samples = 16
  return _default["apply_variants"](config, arg)
