"""launch/prior_gap_check.py: the prior's share of the realism gap against the decoder's. Real
tunes given back unchanged score as real and as exact copies; an untrained decoder is unreal
from its prior and from real tunes' posteriors alike."""

import json

import numpy as np
from test_sample import _random_sampler

from hrnnvae import judge
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib
from hrnnvae.evaluation import realism, scoring

from conftest import load_launch_script

GAP = load_launch_script("prior_gap_check")


def test_real_tunes_given_back_score_as_real_copies_and_random_ones_do_not(nottingham_40):
  """The training spans asked for their own quadrants, scored against the same split's tunes:
  realism in the real mix near 0.5, every step equal to its source and the judge agreeing
  everywhere; shuffled pitches are told apart and copy fewer steps."""
  _, arrays, manifest = nottingham_40
  thresholds = judge.thresholds_of(manifest)
  spans = realism.real_tunes(arrays, 4, 16, thresholds, split="train")
  requested = np.array(scoring.requested_emotions(12))
  picks = GAP["sources_for"](requested, spans, np.random.default_rng(0))
  assert (spans.quadrants[picks] == requested).all()
  sources = spans.events[picks]
  given_back = GAP["score"](list(sources), requested, spans, 16, thresholds, sources)
  assert given_back["steps_equal_to_source"] == 1.0 and given_back["judge"] == 1.0
  assert given_back["realism_real_mix"] <= 0.7, given_back
  # The tonic's share of the notes, by hand: each span's notes counted on its judged key's tonic.
  tonics = judge.features(list(sources), 16).key_tonic
  by_hand = [np.mean([(pitch - tonic) % 12 == 0 for _, _, pitch in events_lib.events_to_notes(s)])
             for s, tonic in zip(sources, tonics)]
  assert np.mean(by_hand) > 0 and np.isclose(given_back["tonic_share"], np.mean(by_hand))
  rng = np.random.default_rng(1)
  shuffled = [rng.permutation(s) for s in sources]  # the same events, anywhere in the span
  scrambled = GAP["score"](shuffled, requested, spans, 16, thresholds, sources)
  assert scrambled["realism"] >= 0.9 and scrambled["steps_equal_to_source"] < 0.9, scrambled
  assert np.isnan(GAP["score"](shuffled, requested, spans, 16, thresholds)["steps_equal_to_source"])


def test_an_untrained_decoder_is_unreal_from_either_latent(nottingham_40):
  _, arrays, manifest = nottingham_40
  sampler = _random_sampler()
  messages = []
  rows = GAP["gap_rows"](sampler, arrays, manifest, num_samples=8, seeds=[0, 1], bars=4,
                         split="train", log=messages.append)
  assert list(rows) == ["train set", *GAP["ROWS"]]
  assert abs(rows["train set"]["realism"] - 0.5) <= 0.15, rows["train set"]
  for name in GAP["ROWS"]:
    assert rows[name]["realism"] >= 0.9, (name, rows[name])
    assert len(rows[name]["realism_by_seed"]) == 2
    assert np.isclose(rows[name]["realism"], np.mean(rows[name]["realism_by_seed"]))
  assert np.isnan(rows["fitted prior"]["steps_equal_to_source"])
  assert 0.0 <= rows["posterior means"]["steps_equal_to_source"] < 0.9
  assert sum("posterior draws" in m for m in messages) == 2
  tells = rows["posterior means"]["gives_away"]
  assert len(tells) == GAP["TELLS"] and tells[0]["accuracy"] >= tells[-1]["accuracy"] >= 0.0
  by_quadrant = rows["posterior means"]["gives_away_by_quadrant"]
  assert list(by_quadrant) == list(emotion_lib.EMOTIONS)
  # Each quadrant asked for against its own real tunes: a quadrant whose real spans come from
  # fewer than FOLDS tunes has no comparison ([]); the others rank every block they have.
  real = realism.real_tunes(arrays, 4, 16, judge.thresholds_of(manifest), split="train")
  for q, emotion in enumerate(emotion_lib.EMOTIONS):
    tunes = len(np.unique(real.groups[real.quadrants == q]))
    assert (len(by_quadrant[emotion]) == GAP["TELLS"]) == (tunes >= realism.FOLDS), (emotion, tunes)
  assert any(by_quadrant.values())
  assert 0.0 <= rows["fitted prior"]["tonic_share"] <= 1.0
  json.dumps(rows)
