"""Session (xxxvii), a prototype (no library change): rests made BOOST times likelier at sampling.

The rest arm rests half as often as the tunes even untempered ((xxxvi): 0.0046 of its steps
against 0.008 at T 1, top-p 1), and the shipped T 0.7 / top-p 0.95 halves that again. Here the
NOTE_OFF logit is raised by temperature * log(BOOST) before the nucleus, so that after tempering
a note-off is BOOST times likelier against every other event (the repeat penalty's rule, turned
around). It wraps nucleus.repeat_penalized, which the decoder's sampling step calls on every
step when a repeat penalty is set (every model here samples with 1.5), then runs LAUNCHER
(sampling_sweep or giveaway_check) with the remaining flags.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxxvii/scripts/rest_boost.py \
      BOOST sampling_sweep --workdir=RUN --cache=CACHE --split=valid ...
"""
import importlib
import sys

import jax.numpy as jnp

from hrnnvae.data import events as events_lib
from hrnnvae.models import nucleus

BOOST = float(sys.argv.pop(1))
LAUNCHER = importlib.import_module(f"launch.{sys.argv.pop(1)}")
_penalized = nucleus.repeat_penalized


def _rests_boosted(logits_BxV, last_pitch_B, repeat_penalty, temperature):
  logits_BxV = _penalized(logits_BxV, last_pitch_B, repeat_penalty, temperature)
  rest_V = jnp.arange(logits_BxV.shape[-1]) == events_lib.NOTE_OFF
  return logits_BxV + jnp.where(rest_V, temperature * jnp.log(BOOST), 0.0).astype(logits_BxV.dtype)


nucleus.repeat_penalized = _rests_boosted
if __name__ == "__main__":
  print(f"rest_boost: NOTE_OFF {BOOST:g} times likelier at sampling")
  LAUNCHER.app.run(LAUNCHER.main)
