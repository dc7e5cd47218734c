"""The realism critic (hrnnvae/realism_critic.py): its importance resampling against a numpy
count, a critic that tells real tunes from a barely trained model's, and sampling with it."""

import numpy as np
import pytest

from hrnnvae import judge, realism_critic
from hrnnvae.evaluation import realism
from hrnnvae.sample import SampleError, Sampler


def test_choose_keeps_each_candidate_as_often_as_its_weight():
  # Candidates weighted 1 : 3 : 0 (log ratios 0, log 3, -inf-like): kept 1/4, 3/4, never.
  ratios = np.tile(np.array([[0.0], [np.log(3.0)], [-50.0]]), (1, 20000))
  kept = realism_critic.choose(ratios, np.random.default_rng(0))
  shares = np.bincount(kept, minlength=3) / kept.size
  np.testing.assert_allclose(shares, [0.25, 0.75, 0.0], atol=0.01)
  assert (realism_critic.choose(np.zeros((1, 5)), np.random.default_rng(0)) == 0).all()


def test_padding_masks_the_steps_it_adds():
  events, mask = realism.pad_steps(np.ones((2, 12), np.int64))
  assert events.shape == mask.shape == (2, 16) and events.dtype == np.int32
  assert mask[:, :12].all() and not mask[:, 12:].any()


def test_key_relative_moves_each_melody_to_a_c_tonic_by_the_nearest_shift():
  """A melody whose judged tonic is t moves by -t (t <= 6) or 12 - t semitones; HOLD and
  NOTE_OFF stay; a pitch the shift would take out of the 88 keys moves an octave the other way.
  So every transposition of a melody reads as the same tune on C, up to an octave, and one that
  lands in the same octave gets the same ratios from a critic."""
  from hrnnvae.data import events as events_lib

  from conftest import melody
  pitches = (57, 60, 64, 69, 67, 64, 62, 60, 59, 57, 64, 57)
  a_minor = melody(*[(p, 4) for p in pitches], steps=48)
  spb = 16
  tonic = judge.features([a_minor], spb).key_tonic[0]
  assert tonic == 9  # A: up 3 semitones to C
  moved = realism_critic.key_relative(a_minor[None], spb)[0]
  pitched = a_minor >= events_lib.FIRST_PITCH_EVENT
  np.testing.assert_array_equal(moved[pitched], a_minor[pitched] + 3)
  np.testing.assert_array_equal(moved[~pitched], a_minor[~pitched])
  for shift in (-5, -1, 2, 6):  # every transposition: the same tune on C, the octave may differ
    transposed = np.where(pitched, a_minor + shift, a_minor)
    octaves = realism_critic.key_relative(transposed[None], spb)[0].astype(int) - moved
    assert not octaves[~pitched].any() and len(set(octaves[pitched])) == 1
    assert octaves[pitched][0] in (-12, 0, 12) and (shift != 2 or octaves[pitched][0] == 0)
  high = [p + 36 for p in pitches]  # three octaves up, its B at 107: up 3 is past the top key
  high[8] = 107
  top = melody(*[(p, 4) for p in high], steps=48)
  top_moved = realism_critic.key_relative(top[None], spb)[0]
  np.testing.assert_array_equal(top_moved[pitched], [events_lib.pitch_to_event(p + 3 - 12 * (p == 107))
                                                     for p in high])
  import jax
  import jax.numpy as jnp
  params = realism_critic.CRITIC.init(jax.random.key(0), jnp.zeros((1, 64), jnp.int32),
                                      jnp.ones((1, 64), bool))
  melodies = np.stack([a_minor, np.where(pitched, a_minor + 2, a_minor)])
  ratios = realism_critic.log_ratios(params, melodies, [2, 2], "key_relative", spb)
  np.testing.assert_allclose(ratios[0], ratios[1], rtol=1e-6)
  np.testing.assert_array_equal(ratios, realism_critic.log_ratios(
      params, realism_critic.key_relative(melodies, spb), [2, 2]))
  with pytest.raises(ValueError, match="unknown realism critic input"):
    realism_critic.log_ratios(params, melodies, [2, 2], "relative", spb)
  assert realism_critic.input_of({}) == "absolute"


@pytest.fixture(scope="module")
def tiny_critic(tiny_workdir, nottingham_40):
  """The tiny model (15 training steps: an obviously unreal generator) and a critic fitted to
  tell its samples from the real training windows."""
  from hrnnvae.data import cache as cache_lib
  sampler = Sampler.load(tiny_workdir / "export")
  arrays, manifest = cache_lib.load(nottingham_40[0])
  params, report = realism_critic.fit(sampler, arrays, judge.thresholds_of(manifest),
                                      per_emotion=32, steps=150, seed=0)
  return sampler, params, report


def test_a_critic_tells_real_tunes_from_an_unreal_generators_on_held_out_melodies(tiny_critic):
  _, _, report = tiny_critic
  held_out = report["held_out_accuracy"]
  assert report["samples"] == 4 * 32 and report["real_windows"] > 0
  counts = np.array(report["real_windows_per_quadrant"])
  assert counts.sum() == report["real_windows"]
  assert report["resampled_quadrants"] == np.nonzero(counts >= realism_critic.MIN_REAL_WINDOWS)[0].tolist()
  assert held_out["real"] >= 0.9 and held_out["generated"] >= 0.9, report


def test_candidates_need_a_critic_and_keep_one_of_the_candidates_toward_the_real(tiny_critic):
  sampler, params, _ = tiny_critic
  emotions = [0, 1, 2, 3] * 8
  plain = np.stack([m.events for m in sampler.sample(emotions, 16, seed=3, candidates=1)])
  with pytest.raises(SampleError, match="realism critic"):
    sampler.sample(emotions, 16, seed=3, candidates=4)
  with pytest.raises(SampleError, match="whole number"):
    sampler.steer(candidates=0)
  sampler.params = {**sampler.params, realism_critic.PARAMS_KEY: params}
  try:
    steps = 16 * sampler.steps_per_bar
    drawn = np.stack([sampler.decode(sampler.prior(len(emotions), 3, emotions, k), emotions, steps,
                                     3, candidate=k) for k in range(8)])
    np.testing.assert_array_equal(drawn[0], plain)  # candidate 0 is the plain sample
    kept = np.stack([m.events for m in sampler.sample(emotions, 16, seed=3, candidates=8)])
    matches = (kept[None] == drawn).all(-1)  # [K, B]: which candidate each kept melody is
    assert matches.any(0).all()
    index = matches.argmax(0)
    ratios = np.stack([realism_critic.log_ratios(params, d, emotions) for d in drawn])
    chosen = ratios[index, np.arange(len(emotions))]
    assert chosen.mean() > ratios[0].mean()  # moved toward what the critic takes for real
    sampler.steer(candidates=8)  # the model's own setting from now on
    again = np.stack([m.events for m in sampler.sample(emotions, 16, seed=3)])
    np.testing.assert_array_equal(again, kept)
    # A critic that resamples happy alone leaves the other quadrants' plain samples.
    sampler.description = {**sampler.description, "realism_critic_fit": {"resampled_quadrants": [0]}}
    happy_only = np.stack([m.events for m in sampler.sample(emotions, 16, seed=3)])
    others = np.array(emotions) != 0
    np.testing.assert_array_equal(happy_only[others], plain[others])
    np.testing.assert_array_equal(happy_only[~others], kept[~others])
    decoded_rows, decode = [], sampler.decode  # nothing to resample: only the plain ones drawn
    sampler.decode = lambda z, *args, **kwargs: decoded_rows.append(len(z)) or decode(z, *args, **kwargs)
    try:
      sad_alone = [m.events for m in sampler.sample([2, 2], 16, seed=3)]
    finally:
      del sampler.decode
    assert decoded_rows == [2]
    np.testing.assert_array_equal(np.stack(sad_alone), np.stack(
        [m.events for m in sampler.sample([2, 2], 16, seed=3, candidates=1)]))
  finally:
    sampler.description = {k: v for k, v in sampler.description.items()
                           if k != "realism_critic_fit"}
    sampler.params = {k: v for k, v in sampler.params.items() if k != realism_critic.PARAMS_KEY}
    sampler.candidates = 1


def test_windows_start_every_hop_and_end_at_the_melodys_end():
  assert realism_critic.window_starts(256, 128, 64) == [0, 64, 128]
  assert realism_critic.window_starts(200, 128, 64) == [0, 64, 72]  # the last ends at step 200
  assert realism_critic.window_starts(128, 128, 64) == [0]
  assert realism_critic.window_starts(100, 128, 64) == []
  assert realism_critic.windows_of({}) is None  # a fit from before windows: the whole melody
  assert realism_critic.windows_of({"realism_critic_fit": {"bars": 8, "window_hop_bars": 4}}) == (8, 4)


def test_a_melody_longer_than_the_critics_windows_scores_their_mean_logit():
  """A 16-bar melody read by an 8-bar critic at hop 4: the mean of the logits of bars 1-8, 5-12
  and 9-16, each moved to C on its own when key-relative; a melody of the windows' length, and
  any melody without windows, is read whole."""
  import jax
  import jax.numpy as jnp
  spb = 4
  rng = np.random.default_rng(0)
  melodies = rng.integers(0, 90, (3, 16 * spb))
  emotions = [0, 2, 3]
  params = realism_critic.CRITIC.init(jax.random.key(1), jnp.zeros((1, 32), jnp.int32),
                                      jnp.ones((1, 32), bool))
  for input_kind in realism_critic.INPUTS:
    windowed = realism_critic.log_ratios(params, melodies, emotions, input_kind, spb, (8, 4))
    each = np.stack([realism_critic.log_ratios(params, melodies[:, start:start + 8 * spb],
                                               emotions, input_kind, spb)
                     for start in (0, 4 * spb, 8 * spb)])
    np.testing.assert_allclose(windowed, each.mean(0), rtol=1e-5, atol=1e-6)
    whole = realism_critic.log_ratios(params, melodies, emotions, input_kind, spb)
    assert not np.allclose(windowed, whole)
    short = melodies[:, :8 * spb]
    np.testing.assert_array_equal(
        realism_critic.log_ratios(params, short, emotions, input_kind, spb, (8, 4)),
        realism_critic.log_ratios(params, short, emotions, input_kind, spb))


def test_an_ensembles_log_ratio_is_the_mean_of_its_members_and_one_member_is_itself():
  """realism_critic.ensemble of critics fitted at several seeds: log_ratios of the ensemble is
  the mean of each member's, read the same way (here key-relative, in 8-bar windows), its members
  come back in order past nine of them, and an ensemble of one is that critic's parameters."""
  import jax
  import jax.numpy as jnp
  spb = 4
  melodies = np.random.default_rng(0).integers(0, 90, (3, 16 * spb))
  emotions = [0, 2, 3]
  critics = [realism_critic.CRITIC.init(jax.random.key(seed), jnp.zeros((1, 32), jnp.int32),
                                        jnp.ones((1, 32), bool)) for seed in range(11)]
  three = realism_critic.ensemble(critics[:3])
  reads = ("key_relative", spb, (8, 4))
  each = np.stack([realism_critic.log_ratios(c, melodies, emotions, *reads) for c in critics[:3]])
  assert not np.allclose(each[0], each[1])  # the members differ
  np.testing.assert_allclose(realism_critic.log_ratios(three, melodies, emotions, *reads),
                             each.mean(0), rtol=1e-5, atol=1e-6)
  eleven = realism_critic.members_of(realism_critic.ensemble(critics))
  assert all(a is b for a, b in zip(eleven, critics)) and len(eleven) == 11
  assert realism_critic.ensemble(critics[:1]) is critics[0]
  assert realism_critic.members_of(critics[0]) == [critics[0]]
  assert realism_critic.fit_options({})["fits"] == 1  # a fit recorded before ensembles
  assert realism_critic.fit_options({"fits": 3})["fits"] == 3


def test_real_windows_cut_every_cached_window_at_the_hop():
  """Windows of 2 bars at hop 1 in cached windows of 4 and 3 bars (and one of another split, one
  transposed): 3 + 2 of the untransposed training rows, in order; windows as long as the cache's
  are realism.real_tunes'."""
  from hrnnvae.data import emotion as emotion_lib
  from hrnnvae.data import sources as sources_lib
  spb, steps = 4, 16
  events = np.stack([np.arange(steps) + 10 * row for row in range(4)]) % 90
  train, valid = (sources_lib.SPLITS.index(s) for s in ("train", "valid"))
  arrays = {"events": events, "lengths": np.array([16, 12, 16, 16]),
            "split": np.array([train, train, valid, train]),
            "transposition": np.array([0, 0, 0, 2]), "steps_per_bar": np.full(4, spb),
            "piece": np.array([0, 1, 2, 0]), "segment": np.zeros(4, int),
            "start_bar": np.zeros(4, int)}
  thresholds = emotion_lib.ArousalThresholds(0.3, 0.3)
  windows = realism_critic.real_windows(arrays, 2, 1, spb, thresholds, "train")
  expected = [events[0, s:s + 8] for s in (0, 4, 8)] + [events[1, s:s + 8] for s in (0, 4)]
  np.testing.assert_array_equal(windows.events, np.stack(expected))
  np.testing.assert_array_equal(windows.groups, [0, 0, 0, 1, 1])
  assert windows.quadrants.shape == (5,)
  whole = realism_critic.real_windows(arrays, 4, 2, spb, thresholds, "train")
  reference = realism.real_tunes(arrays, 4, spb, thresholds, split="train")
  np.testing.assert_array_equal(whole.events, reference.events)


def test_a_critic_fitted_on_shorter_windows_reads_longer_samples_in_them(tiny_workdir,
                                                                         nottingham_40):
  """An 8-bar critic: fitted on the real windows at hop 4 against 16-bar samples cut the same
  way, its report records the hop, and a sampler with it scores a 16-bar candidate by its
  windows' mean (the candidate it keeps is the one those ratios weight)."""
  from hrnnvae.data import cache as cache_lib
  sampler = Sampler.load(tiny_workdir / "export")
  arrays, manifest = cache_lib.load(nottingham_40[0])
  thresholds = judge.thresholds_of(manifest)
  params, report = realism_critic.fit(sampler, arrays, thresholds, per_emotion=8, steps=20,
                                      seed=0, bars=8, min_real_windows=0)
  assert report["bars"] == 8 and report["window_hop_bars"] == 4
  assert report["samples"] == 4 * 8 * 3  # each 16-bar sample cut into bars 1-8, 5-12, 9-16
  spb = sampler.steps_per_bar
  real = realism_critic.real_windows(arrays, 8, 4, spb, thresholds, "train")
  assert report["real_windows"] == len(real.events) > len(
      realism.real_tunes(arrays, 16, spb, thresholds, split="train").events)
  assert realism_critic.fit_options(report)["bars"] == 8
  sampler.params = {**sampler.params, realism_critic.PARAMS_KEY: params}
  sampler.description = {**sampler.description, "realism_critic_fit": report}
  try:
    emotions, count = [0, 1, 2, 3] * 4, 8
    drawn = np.stack([sampler.decode(sampler.prior(16, 5, emotions, k), emotions, 16 * spb, 5,
                                     candidate=k) for k in range(count)])
    kept = np.stack([m.events for m in sampler.sample(emotions, 16, seed=5, candidates=count)])
    windowed, whole = (np.stack([realism_critic.log_ratios(params, d, emotions, "absolute", spb,
                                                           windows) for d in drawn])
                       for windows in ((8, 4), None))
    choice = realism_critic.choose(windowed, np.random.default_rng([5, count]))
    assert (choice != realism_critic.choose(whole, np.random.default_rng([5, count]))).any()
    matches = (kept[None] == drawn).all(-1)  # [K, B]: which candidate each kept melody is
    assert matches.any(0).all(), matches
    np.testing.assert_array_equal(matches.argmax(0), choice)
  finally:
    sampler.description = {k: v for k, v in sampler.description.items()
                           if k != "realism_critic_fit"}
    sampler.params = {k: v for k, v in sampler.params.items() if k != realism_critic.PARAMS_KEY}


def _repetition_reference(events_BxT, mask_BxT, bar_steps):
  """bar_repetition_features in plain numpy loops."""
  rows = []
  for events, mask in zip(events_BxT, mask_BxT):
    bars = len(events) // bar_steps
    cut = [events[b * bar_steps:(b + 1) * bar_steps] for b in range(bars)]
    whole = [mask[b * bar_steps:(b + 1) * bar_steps].all() for b in range(bars)]
    best = []
    for b in range(bars):
      earlier = [np.mean(cut[b] == cut[e]) for e in range(b) if whole[b] and whole[e]]
      if earlier:
        best.append(max(earlier))
    row = [np.mean(best) if best else 0.0, np.mean(np.array(best) >= 1.0) if best else 0.0]
    for lag in realism.REPETITION_LAGS:
      shares = [np.mean(cut[b] == cut[b - lag]) for b in range(lag, bars)
                if whole[b] and whole[b - lag]]
      row.append(np.mean(shares) if shares else 0.0)
    rows.append(row)
  return np.array(rows, np.float32)


def test_bar_repetition_features_are_their_numpy_reference_and_ignore_padding():
  from conftest import melody
  spb = 4
  figure = [(60, 2), (62, 2)]
  other = [(64, 1), (65, 3)]
  # AABA BAAB and half a bar: every bar after the first restates an earlier one exactly but bar
  # 2 (the first B), whose best match (A) shares one step of four, a held note
  restating = melody(*(figure * 2 + other + figure + other + figure * 2 + other), steps=34)
  rng = np.random.default_rng(0)
  noisy = rng.integers(0, 90, size=(2, 40))
  events = np.concatenate([restating[None], noisy[:, :34]])
  mask = np.ones_like(events, bool)
  mask[1, 30:] = False  # a melody of 30 steps: 7 whole bars, its last two steps not read
  import jax.numpy as jnp
  got = np.asarray(realism.bar_repetition_features(jnp.asarray(events), jnp.asarray(mask), spb))
  np.testing.assert_allclose(got, _repetition_reference(events, mask, spb), rtol=1e-6)
  assert got.shape == (3, 2 + len(realism.REPETITION_LAGS))
  np.testing.assert_allclose(got[0, :2], [(6 + 1 / 4) / 7, 6 / 7], atol=1e-6)
  padded = events.copy()
  padded[1, 30:] = 7  # what the mask hides does not count
  np.testing.assert_array_equal(
      got, np.asarray(realism.bar_repetition_features(jnp.asarray(padded), jnp.asarray(mask), spb)))
  one_bar = np.asarray(realism.bar_repetition_features(jnp.asarray(events[:, :4]),
                                                       jnp.asarray(mask[:, :4]), spb))
  assert not one_bar.any()  # no earlier bar, no lag: zeros


def test_a_critic_that_reads_repetition_feeds_the_bars_restatements_to_its_logits():
  """With repetition_bar_steps the critic's MLP reads bar_repetition_features beside the pooled
  windows (4 more inputs, which reach the logit); reading it needs steps_per_bar; a model's
  critic reads it where its fit's report says so."""
  import jax
  import jax.numpy as jnp

  from conftest import melody
  spb = 16
  a, b = [(60, 8), (64, 8)], [(67, 8), (65, 8)]
  restating = melody(*(a + a + b + b), steps=64)
  params = realism_critic.critic(spb).init(jax.random.key(0), jnp.zeros((1, 64), jnp.int32),
                                           jnp.ones((1, 64), bool))
  kernel = params["params"]["Dense_3"]["kernel"]  # the MLP's first layer
  plain = realism_critic.CRITIC.init(jax.random.key(0), jnp.zeros((1, 64), jnp.int32),
                                     jnp.ones((1, 64), bool))
  assert kernel.shape[0] == plain["params"]["Dense_3"]["kernel"].shape[0] + 4
  features = np.asarray(realism.bar_repetition_features(jnp.asarray(restating[None]),
                                                        jnp.ones((1, 64), bool), spb))
  # AABB: bars 1 and 3 restate exactly; bar 2 (B) shares its 14 held steps with A
  np.testing.assert_allclose(features[0], [(2 + 14 / 16) / 3, 2 / 3, 0.0, 0.0], atol=1e-6)
  with_repetition = realism_critic.log_ratios(params, restating[None], [0], "absolute", spb,
                                              repetition=True)
  zeroed = jax.tree.map(lambda leaf: leaf, params)
  zeroed["params"]["Dense_3"]["kernel"] = kernel.at[-4:].set(0.0)
  without = realism_critic.log_ratios(zeroed, restating[None], [0], "absolute", spb,
                                      repetition=True)
  assert with_repetition[0] != without[0]  # the features reach the logit
  with pytest.raises(ValueError, match="steps_per_bar"):
    realism_critic.log_ratios(params, restating[None], [0], repetition=True)
  assert not realism_critic.repetition_of({})
  assert realism_critic.repetition_of({"realism_critic_fit": {"repetition": True}})


def test_register_features_are_the_struck_pitches_mean_and_spread_in_octaves():
  """register_features against numpy: the mean MIDI pitch of the pitch events under the mask,
  less 60, and their standard deviation, both over 12; holds, note-offs and padding do not count;
  a melody that strikes nothing is 0, 0."""
  import jax.numpy as jnp

  from conftest import melody
  tune = melody((60, 4), (64, 2), (67, 2), (72, 8), steps=20)
  rng = np.random.default_rng(0)
  noisy = rng.integers(0, 90, size=20)
  events = np.stack([tune, noisy, np.zeros(20, np.int64)])
  mask = np.ones_like(events, bool)
  mask[1, 15:] = False
  got = np.asarray(realism.register_features(jnp.asarray(events), jnp.asarray(mask)))
  rows = []
  for row, row_mask in zip(events, mask):
    struck = row[row_mask & (row >= 2)] + 19  # event 2 is MIDI 21
    rows.append([(struck.mean() - 60) / 12, struck.std() / 12] if len(struck) else [0.0, 0.0])
  np.testing.assert_allclose(got, np.array(rows, np.float32), rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(got[0], [(65.75 - 60) / 12, np.std([60, 64, 67, 72]) / 12], rtol=1e-5)
  padded = events.copy()
  padded[1, 15:] = 89
  np.testing.assert_array_equal(got, np.asarray(realism.register_features(jnp.asarray(padded),
                                                                           jnp.asarray(mask))))


def test_a_critic_that_reads_register_reads_the_melody_as_written_not_as_moved_to_c():
  """With register the critic's MLP reads register_features beside the pooled windows (2 more
  inputs) of each melody as written, also when it reads the events moved to a C tonic; a model's
  critic reads them where its fit's report says so."""
  import jax
  import jax.numpy as jnp

  from conftest import melody
  spb = 16
  in_e = melody(*[(p, 4) for p in (64, 66, 68, 69, 71, 73, 75, 76)], steps=32)  # E major: moves
  params = realism_critic.critic(0, register=True).init(
      jax.random.key(0), jnp.zeros((1, 32), jnp.int32), jnp.ones((1, 32), bool), jnp.zeros((1, 2)))
  plain = realism_critic.CRITIC.init(jax.random.key(0), jnp.zeros((1, 32), jnp.int32),
                                     jnp.ones((1, 32), bool))
  assert (params["params"]["Dense_3"]["kernel"].shape[0]
          == plain["params"]["Dense_3"]["kernel"].shape[0] + 2)
  moved = realism_critic.key_relative(in_e[None], spb)
  assert (moved != in_e[None]).any()
  events, mask = realism.pad_steps(moved)
  read = lambda melodies: np.asarray(realism_critic._logits(  # noqa: E731
      params, jnp.asarray(events), jnp.asarray(mask), 0,
      realism.register_features(*map(jnp.asarray, realism.pad_steps(melodies)))))[0, 1]
  ratio = realism_critic.log_ratios(params, in_e[None], [1], "key_relative", spb, register=True)
  np.testing.assert_allclose(ratio[0], read(in_e[None]), rtol=1e-6)
  assert abs(ratio[0] - read(moved)) > 1e-6  # not the register of the moved melody
  with pytest.raises(ValueError, match="register_features"):  # the module needs them
    realism_critic.critic(0, register=True).apply(params, jnp.asarray(events), jnp.asarray(mask))
  assert not realism_critic.register_of({})
  assert realism_critic.register_of({"realism_critic_fit": {"register": True}})
  assert realism_critic.fit_options({})["register"] is False
