"""A tiny model for tests: a few seconds per hundred steps on two CPU cores.

  hrnnvae-train --config=configs/tiny.py --workdir=/tmp/tiny --config.data.cache_dir=CACHE
"""

import pathlib
import runpy

_default = runpy.run_path(str(pathlib.Path(__file__).with_name("default.py")))


def get_config(arg=None):
  config = _default["get_config"]()
  # Windows of 32 steps in one bar bucket: each test run compiles one train step per phase (three
  # bucket widths cost 85 s of compiling on 2 cores against 54 s); tiny_learns keeps the buckets.
  config.data.max_steps = 32
  config.train.bucket_by_bar = False
  config.model.embed_dim = 16
  _default["set_rnn_width"](config, 32)
  config.model.latent_dim = 8
  config.model.emotion_dim = 4
  config.model.attention_dim = 16
  config.model.attention_heads = 2
  config.model.classifier_channels = 16
  config.loss.kl_warmup_steps = 50
  config.loss.free_bits = 8.0
  config.loss.aux_start_step = 0  # tests see all four losses from the start
  config.train.warmup_steps = 0
  config.train.min_steps = 0
  config.train.batch_size = 16
  config.train.lr_batch_scaling = "none"  # its learning rate was measured at this batch
  config.train.learning_rate = 3e-3
  config.train.max_epochs = 3
  config.train.log_every_steps = 10
  config.train.checkpoint_every_steps = 10
  config.train.eval_prior_samples = 4
  return _default["apply_variants"](config, arg)
