"""Session (xviii), a prototype (no library change): the emotion reached by the choice among K
prior samples rather than by guidance. (xvii)'s emotion-weighted choice (candidate k of a melody
asked for q kept with probability softmax_k(critic logit_k + W log p_E(q | k))) at a lower
emotion guidance for every quadrant: the model's own per-quadrant guidances are set to QG
(four numbers, default 0,0,0,0: the sweep's --guidances for all).
  W=5 QG=0,0,0,0 PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xviii/scripts/emotion_by_choice.py \
      --pretrained=jsb_chorales --guidances=1.25 ...
"""
import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parents[2] / "issue19_session_xvii" / "scripts"))
import emotion_weighted_choice  # noqa: E402,F401 - wraps the critic's log ratios with W

from launch import sampling_sweep  # noqa: E402

_load = sampling_sweep.pretrained.load
GUIDANCES = tuple(float(g) for g in os.environ.get("QG", "0,0,0,0").split(","))


def _load_steered(name):
  sampler = _load(name)
  sampler.steer(quadrant_guidance=GUIDANCES)
  return sampler


sampling_sweep.pretrained.load = _load_steered
if __name__ == "__main__":
  sampling_sweep.app.run(sampling_sweep.main)
