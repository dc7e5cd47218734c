"""launch/sampling_sweep.py: its rule for the default sampling settings, and a sweep on real
tunes that finds an untrained model's samples and not the real tunes."""

import functools
import json

import numpy as np
from test_sample import _random_sampler

from conftest import load_launch_script

SWEEP = load_launch_script("sampling_sweep")


def _row(realism, judge, worst):
  return {"realism": realism, "judge": judge, "judge_worst": worst}


def test_the_most_real_setting_among_those_the_judge_passes():
  rows = {"valid set": _row(0.5, float("nan"), float("nan")),
          "T=0.5 p=1": _row(0.85, 0.86, 0.78), "T=0.7 p=0.9": _row(0.80, 0.87, 0.76),
          "T=1 p=1": _row(0.70, 0.76, 0.58), "T=1 p=0.9": _row(0.75, 0.85, 0.70)}
  # T=1 is the most real but the judge fails it; p=0.9 at T=1 misses the quadrant floor.
  assert SWEEP["choose"](rows) == "T=0.7 p=0.9"
  rows["T=0.7 p=0.9"] = _row(0.80, 0.84, 0.80)
  assert SWEEP["choose"](rows) == "T=0.5 p=1"


def test_when_no_setting_passes_the_most_real_of_those_near_the_best_judge():
  """A judge 0.04 under the best is worse; one within JUDGE_TOLERANCE (0.02) is as good, and
  then realism decides."""
  rows = {"valid set": _row(0.5, float("nan"), float("nan")),
          "T=0.5 p=1": _row(0.85, 0.80, 0.60), "T=1 p=1": _row(0.70, 0.76, 0.58)}
  assert SWEEP["choose"](rows) == "T=0.5 p=1"
  rows["T=0.7 p=1 r=10"] = _row(0.75, 0.79, 0.55)
  assert SWEEP["choose"](rows) == "T=0.7 p=1 r=10"
  rows["T=0.7 p=1 r=10"] = _row(0.75, 0.77, 0.55)
  assert SWEEP["choose"](rows) == "T=0.5 p=1"


def test_the_mean_over_seeds_takes_the_worst_quadrant_of_the_means():
  """Two seeds whose worst quadrants differ: each column is the plain mean, judge_worst is the
  worst quadrant of the means (0.7, not the mean of each seed's worst, 0.6), and realism and
  the judge stay per seed."""
  columns = SWEEP["COLUMNS"]
  one = {**dict.fromkeys(columns, 0.0), "temperature": 0.7, "realism": 0.8,
         "judge_happy": 0.5, "judge_tense": 0.9, "judge_sad": 0.9, "judge_calm": 0.9}
  two = {**dict.fromkeys(columns, 1.0), "temperature": 0.7, "realism": 0.9,
         "judge_happy": 0.9, "judge_tense": 0.7, "judge_sad": 0.9, "judge_calm": 0.9}
  for row in (one, two):
    row["judge"] = float(np.mean([row[f"judge_{q}"] for q in ("happy", "tense", "sad", "calm")]))
    row["judge_worst"] = min(row[f"judge_{q}"] for q in ("happy", "tense", "sad", "calm"))
  mean = SWEEP["_mean_over_seeds"]([one, two])
  assert mean["temperature"] == 0.7 and mean["phrase_similarity"] == 0.5
  np.testing.assert_allclose([mean["realism"], mean["judge_happy"], mean["judge_tense"]],
                             [0.85, 0.7, 0.8])
  np.testing.assert_allclose(mean["judge"], (one["judge"] + two["judge"]) / 2)
  assert mean["judge_worst"] == 0.7 and (one["judge_worst"] + two["judge_worst"]) / 2 == 0.6
  assert mean["realism_by_seed"] == [0.8, 0.9] and mean["judge_by_seed"] == [one["judge"], two["judge"]]


def test_a_sweep_on_real_tunes_finds_an_untrained_model(nottingham_40):
  """An untrained decoder's samples against the 40 tunes' training spans: the feature classifier
  tells them apart (realism near 1) where the real tunes against themselves sit near 0.5; every
  setting has its row (guided throughout, the sampler's own guidance restored after), a nucleus
  changes what is sampled, a repeat penalty strikes the last pitch again less often and a
  short-note penalty writes fewer one-step notes."""
  _, arrays, manifest = nottingham_40
  sampler = _random_sampler()
  messages = []
  rows = SWEEP["sweep"](sampler, arrays, manifest, [1.0], [1.0, 0.5], num_samples=10, seed=0,
                        bars=4, split="train", log=messages.append, guidances=[3.0],
                        repeat_penalties=[1.0, 5.0], short_note_penalties=[1.0, 5.0])
  plain, nucleus = "T=1 p=1 g=3", "T=1 p=0.5 g=3"
  assert list(rows) == ["train set", plain, nucleus, f"{plain} r=5", f"{nucleus} r=5",
                        f"{plain} s=5", f"{nucleus} s=5", f"{plain} r=5 s=5", f"{nucleus} r=5 s=5"]
  assert set(rows[plain]) == {*SWEEP["SETTINGS"], *SWEEP["COLUMNS"], "realism_by_seed",
                              "judge_by_seed"}
  assert rows[plain]["realism_by_seed"] == [rows[plain]["realism"]]  # one seed
  assert rows[f"{plain} r=5"]["repeat_penalty"] == 5.0 and sampler.repeat_penalty == 1.0
  assert rows[f"{plain} r=5"]["note_repetition_rate"] < rows[plain]["note_repetition_rate"]
  assert rows[f"{plain} s=5"]["short_note_penalty"] == 5.0 and sampler.short_note_penalty == 1.0
  assert rows[f"{plain} s=5"]["one_step_notes"] < rows[plain]["one_step_notes"]
  assert rows[plain]["emotion_guidance"] == 3.0 and sampler.emotion_guidance == 1.0
  assert (rows[nucleus]["temperature"], rows[nucleus]["top_p"]) == (1.0, 0.5)
  assert abs(rows["train set"]["realism"] - 0.5) <= 0.15, rows["train set"]
  assert rows["train set"]["one_step_notes"] < rows[plain]["one_step_notes"]
  # Real tunes put about a fifth of their notes on the tonic; a random decoder's are spread.
  assert 0.15 <= rows["train set"]["tonic_share"] <= 0.4 and rows[plain]["tonic_share"] < 0.15, (
      rows["train set"]["tonic_share"], rows[plain]["tonic_share"])
  for name in (plain, nucleus):
    assert rows[name]["realism"] >= 0.9, rows[name]
    assert 0.0 <= rows[name]["judge_worst"] <= rows[name]["judge"] <= 1.0
  assert rows[plain]["note_repetition_rate"] != rows[nucleus]["note_repetition_rate"]
  assert any("train split" in m for m in messages)
  json.dumps(rows)  # the --json file holds it as it is
  assert np.isnan(rows["train set"]["judge"]) and np.isnan(rows["train set"]["judge_calm"])


def test_a_sweep_over_seeds_is_the_mean_of_each_seeds_sweep(nottingham_40):
  """--seeds=0,1: each figure is the mean of the one-seed sweeps' (the same samples, one
  classifier), the real tunes' row is theirs, and the seeds differ."""
  _, arrays, manifest = nottingham_40
  sampler = _random_sampler()
  run = functools.partial(SWEEP["sweep"], sampler, arrays, manifest, [1.0], [1.0], num_samples=8,
                          bars=4, split="train", log=lambda message: None)
  by_seed = [run(seed=seed)["T=1 p=1"] for seed in (0, 1)]
  both = run(seed=[0, 1])
  np.testing.assert_equal(both["train set"], run(seed=0)["train set"])  # NaN where too few tunes
  row = both["T=1 p=1"]
  assert row["realism_by_seed"] == [by_seed[0]["realism"], by_seed[1]["realism"]]
  assert by_seed[0]["note_repetition_rate"] != by_seed[1]["note_repetition_rate"]
  for name in ("realism", "judge", "judge_happy", "note_repetition_rate", "one_step_notes",
               "tonic_share"):
    np.testing.assert_allclose(row[name], (by_seed[0][name] + by_seed[1][name]) / 2, err_msg=name)
  assert row["judge_worst"] == min(row[f"judge_{q}"] for q in ("happy", "tense", "sad", "calm"))



def test_a_sweep_over_candidates_keeps_one_of_k_by_the_models_critic(nottingham_40):
  """--candidates=1,3: a row for each, the K = 1 row the plain sweep's; a model without a
  realism critic is told it needs one."""
  import jax
  import jax.numpy as jnp
  import pytest

  from hrnnvae import realism_critic
  from hrnnvae.sample import SampleError
  _, arrays, manifest = nottingham_40
  sampler = _random_sampler()
  run = functools.partial(SWEEP["sweep"], sampler, arrays, manifest, [1.0], [1.0], num_samples=8,
                          seed=0, bars=4, split="train", log=lambda message: None)
  with pytest.raises(SampleError, match="realism critic"):
    run(candidates=[3])
  critic = realism_critic.CRITIC.init(jax.random.key(0), jnp.zeros((1, 64), jnp.int32),
                                      jnp.ones((1, 64), bool))
  sampler.params = {**sampler.params, realism_critic.PARAMS_KEY: critic}
  rows = run(candidates=[1, 3])
  assert list(rows) == ["train set", "T=1 p=1", "T=1 p=1 K=3"]
  assert rows["T=1 p=1"]["candidates"] == 1 and rows["T=1 p=1 K=3"]["candidates"] == 3
  plain = run()["T=1 p=1"]
  assert rows["T=1 p=1"]["note_repetition_rate"] == plain["note_repetition_rate"]


def test_a_sweep_over_attention_reach_has_a_row_for_each_and_restores_the_models_own(nottingham_40):
  """--attention_bars=0,2: the 0 row is the plain sweep's, the 2-bar row decodes with a 2-bar
  reach (other melodies than the tiny model's whole history gives 4-bar samples), and the
  sampler keeps its own reach afterwards."""
  _, arrays, manifest = nottingham_40
  sampler = _random_sampler()
  run = functools.partial(SWEEP["sweep"], sampler, arrays, manifest, [1.0], [1.0], num_samples=8,
                          seed=0, bars=4, split="train", log=lambda message: None)
  rows = run(attention_bars=[0, 2])
  assert list(rows) == ["train set", "T=1 p=1", "T=1 p=1 A=2"]
  assert rows["T=1 p=1 A=2"]["attention_bars"] == 2 and sampler.attention_bars == 0
  plain = run()["T=1 p=1"]
  assert rows["T=1 p=1"]["note_repetition_rate"] == plain["note_repetition_rate"]
  assert rows["T=1 p=1 A=2"]["note_repetition_rate"] != plain["note_repetition_rate"]


def test_a_sweep_over_sections_has_a_row_for_each_and_restores_the_models_own(nottingham_40):
  """--section_bars=0,2 --section_correlations=0,0.5: one row without sections (the plain
  sweep's), one for each correlation at 2-bar sections (other melodies past bar 2), and the
  sampler keeps its own sections afterwards."""
  _, arrays, manifest = nottingham_40
  sampler = _random_sampler()
  run = functools.partial(SWEEP["sweep"], sampler, arrays, manifest, [1.0], [1.0], num_samples=8,
                          seed=0, bars=4, split="train", log=lambda message: None)
  rows = run(section_bars=[0, 2], section_correlations=[0.0, 0.5])
  assert list(rows) == ["train set", "T=1 p=1", "T=1 p=1 S=2 c=0", "T=1 p=1 S=2 c=0.5"]
  assert rows["T=1 p=1 S=2 c=0.5"]["section_correlation"] == 0.5
  assert (sampler.section_bars, sampler.section_correlation) == (0, 0.0)
  plain = run()["T=1 p=1"]
  assert rows["T=1 p=1"]["note_repetition_rate"] == plain["note_repetition_rate"]
  assert rows["T=1 p=1 S=2 c=0"]["note_repetition_rate"] != plain["note_repetition_rate"]
  # --section_repeats=1,2: an AABB row beside it (2-bar sections, 8 bars), and the sampler's
  # own repeats kept
  rows = run(section_bars=[2], section_correlations=[0.0], section_repeats=[1, 2], bars=8)
  assert list(rows) == ["train set", "T=1 p=1 S=2 c=0", "T=1 p=1 S=2 c=0 R=2"]
  assert rows["T=1 p=1 S=2 c=0 R=2"]["section_repeats"] == 2 and sampler.section_repeats == 1
  assert (rows["T=1 p=1 S=2 c=0 R=2"]["note_repetition_rate"]
          != rows["T=1 p=1 S=2 c=0"]["note_repetition_rate"])


def test_a_sweep_on_held_out_tunes_has_the_memorizers_row(nottingham_40):
  """--split=test: the training tunes (the memorizer) follow the test tunes' row, as real as a
  model of the training tunes can be (near 0.5 where a random decoder is near 1), with no judge
  of their own; --split=train has no such row (it would be its tunes against themselves). In
  6/8: the 40 tunes' test split is jigs."""
  _, arrays, manifest = nottingham_40
  rows = SWEEP["sweep"](_random_sampler(meter=(6, 8)), arrays, manifest, [1.0], [1.0], num_samples=8, seed=0,
                        bars=4, split="test", log=lambda message: None)
  assert list(rows) == ["test set", SWEEP["MEMORIZER_ROW"], "T=1 p=1"]
  memorizer = rows[SWEEP["MEMORIZER_ROW"]]
  assert memorizer["realism"] <= 0.7 and rows["T=1 p=1"]["realism"] >= 0.9, (
      memorizer["realism"], rows["T=1 p=1"]["realism"])
  assert np.isnan(memorizer["judge"]) and 0.15 <= memorizer["tonic_share"] <= 0.4


def test_a_sweep_says_which_quadrants_keep_their_own_guidance(nottingham_40):
  """--guidances sets the guidance of the quadrants without one of their own; a model that has
  one for a quadrant (Sampler.quadrant_guidance) keeps it in every row, and the sweep says so."""
  _, arrays, manifest = nottingham_40
  sampler = _random_sampler()
  sampler.steer(quadrant_guidance=[0.0, 2.0, 0.0, 0.0])
  messages = []
  rows = SWEEP["sweep"](sampler, arrays, manifest, [1.0], [1.0], num_samples=8, seed=0, bars=4,
                        split="train", log=messages.append, guidances=[1.0])
  assert "the model's own guidance for tense (2) stays in force in every row" in messages
  assert sampler.quadrant_guidance == (0.0, 2.0, 0.0, 0.0) and "T=1 p=1" in rows
