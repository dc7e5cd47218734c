"""The bundled music21 Bach chorales, small and quick: the README's main job (CPU, minutes).

  hrnnvae-data prepare --dataset=bach_music21 --out=runs/demo/data
  hrnnvae-train --config=configs/bach_music21.py --workdir=runs/demo
"""

import pathlib
import runpy

_default = runpy.run_path(str(pathlib.Path(__file__).with_name("default.py")))


def get_config(arg=None):
  config = _default["get_config"]()
  config.data.cache_dir = "runs/demo/data"
  config.data.max_steps = 128  # 8 bars of 4/4
  _default["set_rnn_width"](config, 96)
  config.model.latent_dim = 32
  config.model.attention_dim = 48
  config.model.attention_window_bars = 4
  config.loss.kl_warmup_steps = 200
  config.loss.free_bits = 16.0  # 8 bars, not 16
  config.loss.aux_start_step = 300  # the fine-tune phase after 10 epochs of the ELBO alone
  config.train.warmup_steps = 50
  config.train.min_steps = 120
  config.train.eval_every_steps = 0  # every epoch (30 steps)
  config.train.max_epochs = 60
  config.train.patience = 6
  config.train.learning_rate = 3e-3
  config.train.batch_size = 16  # 30 steps an epoch: the model learns before early stopping
  config.train.lr_batch_scaling = "none"  # its learning rate was measured at this batch
  config.train.log_every_steps = 10
  config.train.eval_prior_samples = 16
  return _default["apply_variants"](config, arg)
