"""Writes the transfer adapter's first leg (the Nottingham model shipped before 6238cac, one leg
of 6,000 steps at keep bias 1) to a msgpack file, for transfer_adapter_screen.py --init.

  mkdir -p /tmp/leg1/nottingham && for f in config.json latent_prior.npz manifest.json \
      params.msgpack; do git show 6238cac^:hrnnvae/pretrained/nottingham/$f \
      > /tmp/leg1/nottingham/$f; done
  PYTHONPATH=. python docs/results/issue19_session_xv/scripts/first_leg.py /tmp/leg1/nottingham \
      /tmp/leg1/first_leg.msgpack
"""

import pathlib
import sys

import jax
import numpy as np
from flax import serialization

from hrnnvae import pretrained, transfer_adapter

model_dir, out = sys.argv[1:3]
adapter = pretrained.load_model(model_dir).params[transfer_adapter.PARAMS_KEY]
pathlib.Path(out).write_bytes(serialization.msgpack_serialize(jax.tree.map(np.asarray, adapter)))
