"""Session (xxvi), a prototype (no library change): sampling with the mean of several realism
critics' log-ratios in place of one (an ensemble of the same critic fitted at other seeds,
realism_critic.fit), so that which of K candidates is kept rests less on one fit's seed. The
first argument lists the other critics' exports (comma-separated); the model is sampling_sweep's
--workdir, whose own critic is the ensemble's first member; the rest is launch/sampling_sweep.py.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxvi/scripts/critic_ensemble.py \
      OUT/run_critic_seed1/export,OUT/run_critic_seed2/export --workdir=RUN/export ...
"""
import sys

import numpy as np

from hrnnvae import realism_critic
from hrnnvae.sample import Sampler
from launch import sampling_sweep

OTHERS = [Sampler.load(path).params[realism_critic.PARAMS_KEY]
          for path in sys.argv.pop(1).split(",")]
_log_ratios = realism_critic.log_ratios
_inside = []  # log_ratios calls itself on a long melody's windows: one member's, not the mean


def _mean_log_ratios(params, *args, **kwargs):
  if _inside:
    return _log_ratios(params, *args, **kwargs)
  _inside.append(True)
  try:
    return np.mean([_log_ratios(member, *args, **kwargs) for member in [params] + OTHERS], axis=0)
  finally:
    _inside.pop()


realism_critic.log_ratios = _mean_log_ratios
if __name__ == "__main__":
  print(f"realism critic: the mean of {1 + len(OTHERS)} fits' log-ratios")
  sampling_sweep.app.run(sampling_sweep.main)
