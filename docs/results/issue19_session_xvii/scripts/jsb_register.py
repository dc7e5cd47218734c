"""Session (xvii): where JSB's samples sit. The mean MIDI pitch of the struck notes of the
shipped model's 16-bar prior samples (64 an emotion, seed 0) per requested quadrant, at emotion
guidance 1 and the model's own (1.75, tense 1.5), plain (K 1) and as the critic keeps them (K
32), beside the training / validation / test chorales' 16-bar spans per the judge's quadrant.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xvii/scripts/jsb_register.py CACHE
"""
import sys

import numpy as np

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib
from hrnnvae.evaluation import realism


def mean_pitch(events_NxT):
  struck = [events_lib.event_to_pitch(e[e >= events_lib.FIRST_PITCH_EVENT].astype(np.int64))
            for e in np.asarray(events_NxT)]
  return np.array([p.mean() if len(p) else np.nan for p in struck])


if __name__ == "__main__":
  sampler = pretrained.load_model("jsb_chorales")
  arrays, manifest = cache_lib.load(sys.argv[1])
  thresholds = judge.thresholds_of(manifest)
  spb = sampler.steps_per_bar
  for split in ("train", "valid", "test"):
    real = realism.real_tunes(arrays, 16, spb, thresholds, split=split)
    pitch = mean_pitch(real.events)
    print(f"{split} chorales: {np.nanmean(pitch):.1f} (" + ", ".join(
        f"{q} {np.nanmean(pitch[real.quadrants == i]):.1f}" for i, q in enumerate(emotion_lib.EMOTIONS)
        if (real.quadrants == i).any()) + ")", flush=True)
  own = (sampler.emotion_guidance, sampler.quadrant_guidance)
  for label, guidance, quadrants, candidates in (
      ("guidance 1, K 1", 1.0, (0.0,) * 4, 1), ("own guidance, K 1", *own, 1),
      ("own guidance, K 32", *own, 32)):
    sampler.steer(emotion_guidance=guidance, quadrant_guidance=quadrants)
    row = []
    for quadrant, name in enumerate(emotion_lib.EMOTIONS):
      melodies = sampler.sample([quadrant] * 64, 16, 0, candidates=candidates)
      row.append(f"{name} {np.nanmean(mean_pitch([m.events for m in melodies])):.1f}")
    print(f"samples, {label}: " + ", ".join(row), flush=True)
