"""Screen (session xv): launch/sampling_sweep.py with the realism critic's log density ratios
multiplied by CRITIC_SHARPNESS before importance resampling (realism_critic.choose): 1 is the
shipped sampling-importance-resampling, larger keeps the critic's favourites more often.

  CRITIC_SHARPNESS=2 PYTHONPATH=. python docs/results/issue19_session_xv/scripts/sharpness_sweep.py \
      --pretrained=jsb_chorales --cache=CACHE --split=valid ... (sampling_sweep.py's flags)
"""

import os
import runpy

from hrnnvae import realism_critic

SHARPNESS = float(os.environ["CRITIC_SHARPNESS"])
_choose = realism_critic.choose
realism_critic.choose = lambda log_ratios_KxB, rng: _choose(SHARPNESS * log_ratios_KxB, rng)
runpy.run_path(os.path.join(os.path.dirname(__file__), "../../../../launch/sampling_sweep.py"),
               run_name="__main__")
