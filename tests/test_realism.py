"""evaluation/realism.py: the features of a melody worked by hand, folds grouped by tune, the
subsets of each row, real spans cut and joined from windows, and the classifiers on synthetic
melodies and on real Nottingham windows (real against real about 0.5, a broken generator found)."""

import numpy as np
import pytest

from hrnnvae import judge
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib
from hrnnvae.data import sources as sources_lib
from hrnnvae.evaluation import realism

from conftest import melody, optimize

C_MAJOR = (0, 2, 4, 5, 7, 9, 11)
THRESHOLDS = emotion_lib.ArousalThresholds(median_note_density=4.0, median_mean_abs_interval=2.0)


def _block(features: np.ndarray, name: str, steps_per_bar: int) -> np.ndarray:
  widths = realism.feature_blocks(steps_per_bar)
  start = sum(list(widths.values())[:list(widths).index(name)])
  return features[..., start:start + widths[name]]


def test_features_of_a_melody_worked_by_hand():
  # Two bars of 2/2 (8 steps a bar): C4 E4 G4(quarter) G4 rest C5(quarter).
  events = melody((60, 2), (64, 2), (67, 4), (67, 2), (None, 2), (72, 4), steps=16)
  keys = judge.features([events], 8)
  assert keys.key_tonic[0] == 0 and keys.is_major[0]  # C major: rotation by 0
  features = realism.melody_features(events[None], 8)[0]
  assert features.shape == (sum(realism.feature_blocks(8).values()),)
  expected_pitch_classes = np.zeros(12)
  expected_pitch_classes[[0, 4, 7]] = [2 / 5, 1 / 5, 2 / 5]  # C, E, G, G, C
  np.testing.assert_allclose(_block(features, "pitch_class", 8), expected_pitch_classes)
  assert _block(features, "major", 8).tolist() == [1.0]
  intervals = np.zeros(27)
  intervals[[13 + 4, 13 + 3, 13 + 0, 13 + 5]] = 1 / 4  # +4 +3 0 +5; 0 is a repeated pitch
  np.testing.assert_allclose(_block(features, "interval", 8), intervals)
  lengths = np.zeros(17)
  lengths[[2 - 1, 4 - 1]] = [3 / 5, 2 / 5]  # lengths 2, 2, 4, 2, 4 steps
  np.testing.assert_allclose(_block(features, "note_length", 8), lengths)
  onsets = np.zeros(8)
  onsets[[0, 2, 4]] = [2 / 5, 1 / 5, 2 / 5]  # steps 0, 2, 4, 8, 12 within 8-step bars
  np.testing.assert_allclose(_block(features, "onset_position", 8), onsets)
  np.testing.assert_allclose(_block(features, "rest_share", 8), [2 / 16])
  # No repeated 4-gram, bar 2 differs from bar 1, fewer than two 4-bar phrases.
  np.testing.assert_allclose(_block(features, "repetition", 8), [0, 0, 0])
  # 2.5 notes a bar; mean pitch 66 = 60 + half an octave; range C4-C5, an octave.
  np.testing.assert_allclose(_block(features, "register", 8), [2.5, 0.5, 1.0])
  # A tone higher, in D major: the same key-relative pitch classes and intervals.
  raised = np.where(events >= events_lib.FIRST_PITCH_EVENT, events + 2, events)
  again = realism.melody_features(raised[None], 8)[0]
  np.testing.assert_allclose(_block(again, "pitch_class", 8), expected_pitch_classes)
  np.testing.assert_allclose(_block(again, "interval", 8), intervals)


def _walks(tunes: int, windows: int, bars: int, seed: int, first_group: int = 0) -> realism.Melodies:
  """`windows` windows of `bars` 4/4 bars from each of `tunes` synthetic tunes: a stepwise walk
  in C major on a rhythm of quarters and eighths that each tune keeps in every window."""
  rng = np.random.default_rng(seed)
  events, groups = [], []
  for tune in range(tunes):
    rhythm = rng.choice([2, 4], size=16)
    rhythm = rhythm[:np.searchsorted(np.cumsum(rhythm), 16, side="right")]
    for _ in range(windows):
      degree, notes = int(rng.integers(7, 14)), []
      for _ in range(bars):
        for duration in rhythm:
          degree = int(np.clip(degree + rng.choice([-2, -1, 1, 2]), 0, 20))
          notes.append((48 + 12 * (degree // 7) + C_MAJOR[degree % 7], int(duration)))
        if rhythm.sum() < 16:
          notes.append((None, 16 - int(rhythm.sum())))
      events.append(melody(*notes, steps=16 * bars))
      groups.append(first_group + tune)
  return realism.Melodies(np.stack(events).astype(np.int64), np.array(groups),
                          np.arange(len(groups)) % 4)


def _broken(kind: str, count: int, steps: int, seed: int = 0) -> realism.Melodies:
  """A broken generator's melodies: a random pitch every step, or one note struck every beat."""
  if kind == "random":
    events = np.random.default_rng(seed).integers(events_lib.pitch_to_event(48),
                                                  events_lib.pitch_to_event(84), (count, steps))
  else:
    events = np.zeros((count, steps), np.int64)
    events[:, ::4] = events_lib.pitch_to_event(60)
  return realism.generated_melodies(list(events), np.arange(count) % 4)


def test_folds_keep_each_tune_whole_and_both_classes_in_every_fold():
  rng = np.random.default_rng(0)
  pieces = np.repeat(np.arange(25), rng.integers(1, 9, size=25))  # tunes of 1 to 8 windows
  groups = np.concatenate([pieces, np.arange(80)])  # then 80 samples, each its own group
  classes = np.repeat([0, 1], [len(pieces), 80])
  fold = realism.group_folds(groups, classes, realism.FOLDS, seed=3)
  for label in (0, 1):
    for group in np.unique(groups[classes == label]):
      assert len(np.unique(fold[(classes == label) & (groups == group)])) == 1
    sizes = np.bincount(fold[classes == label], minlength=realism.FOLDS)
    assert sizes.min() > 0 and sizes.max() - sizes.min() <= 8  # dealt out evenly
  assert sorted(np.unique(fold)) == list(range(realism.FOLDS))


@pytest.fixture
def optimized_classifiers(monkeypatch):
  """The sequence classifier's fit and prediction compiled at XLA's default level: their programs
  run long (conftest)."""
  optimize(monkeypatch, realism, "_fit_sequence")
  optimize(monkeypatch, realism, "_predict_sequence")


def test_real_against_real_is_about_half_and_broken_generators_are_found(optimized_classifiers):
  real = _walks(tunes=40, windows=3, bars=4, seed=0)
  real = realism.Melodies(real.events, real.groups, np.zeros_like(real.quadrants))  # all happy
  rows = realism.real_against_real(real, 16, repeats=2)
  overall = {r["classifier"]: r["accuracy"] for r in rows if r["subset"] == "overall"}
  assert set(overall) == set(realism.CLASSIFIERS)
  for accuracy in overall.values():
    assert abs(accuracy - 0.5) <= 0.12, overall
  for kind in ("random", "one_note"):
    found = realism.compare(_broken(kind, 120, 64), real, 16)
    for name in realism.CLASSIFIERS:
      assert found[name].mean() >= 0.95, (kind, name, found[name])


def test_in_real_mix_draws_the_samples_down_to_the_real_tunes_shares():
  generated = realism.generated_melodies(list(np.arange(256)[:, None]), np.arange(256) // 64)
  real = realism.Melodies(np.zeros((100, 1), np.int64), np.arange(100),
                          np.repeat([0, 2, 3], [50, 10, 40]))  # half happy, no tense
  drawn = realism.in_real_mix(generated, real, seed=0)
  assert np.bincount(drawn.quadrants, minlength=4).tolist() == [64, 0, 13, 51]
  assert len(np.unique(drawn.events)) == len(drawn.events)  # each sample at most once
  assert set(drawn.quadrants[drawn.events[:, 0] // 64 == drawn.quadrants]) == {0, 2, 3}
  assert not np.array_equal(realism.in_real_mix(generated, real, seed=1).events, drawn.events)
  unlabelled = realism.Melodies(real.events, real.groups, np.full(100, -1))  # no quadrants: none
  assert len(realism.in_real_mix(generated, unlabelled, seed=0).events) == 0


def _mixed_generator() -> tuple[realism.Melodies, realism.Melodies]:
  """(generated, real): real tunes nine in ten walks (quadrant 0), one in ten one note a beat
  (quadrant 1); a generator as real in each quadrant, asked half and half."""
  one_note = _broken("one_note", 50, 64).events
  real_walks, sample_walks = _walks(90, 1, 4, seed=0), _walks(40, 1, 4, seed=1)
  real = realism.Melodies(np.concatenate([real_walks.events, one_note[:10]]),
                          np.concatenate([real_walks.groups, 1000 + np.arange(10)]),
                          np.repeat([0, 1], [90, 10]))
  generated = realism.generated_melodies(list(np.concatenate([sample_walks.events, one_note[10:]])),
                                         np.repeat([0, 1], [40, 40]))
  return generated, real


def test_real_mix_takes_the_mix_of_emotions_out_of_overall():
  """A generator as real as the data in each quadrant, but asked for quadrants in other shares
  (half and half against nine to one): overall the classifier tells it by the mix alone; drawn
  down to the real tunes' mix it cannot."""
  generated, real = _mixed_generator()
  accuracy = {r["subset"]: r["accuracy"] for r in realism.model_rows(
      generated, real, 16, repeats=2, classifiers=("features",))}
  assert accuracy["overall"] >= 0.62, accuracy
  assert abs(accuracy["real_mix"] - 0.5) <= 0.1, accuracy


def test_what_gives_them_away_reads_the_samples_in_the_real_tunes_mix():
  """real_mix's generator (as real as the data in each quadrant, asked half and half against the
  tunes' nine to one): every sample as asked, the one-note rhythm of the second quadrant gives
  them away; drawn down to the tunes' mix (the default), no block tells them apart."""
  generated, real = _mixed_generator()
  asked = realism.what_gives_them_away(generated, real, 16, repeats=2, mix="asked")
  in_mix = realism.what_gives_them_away(generated, real, 16, repeats=2)
  assert asked[0]["accuracy"] >= 0.62 and asked[0]["mix"] == "asked", asked[0]
  assert asked[0]["samples"] == 80
  assert {row["mix"] for row in in_mix} == {"real"} and in_mix[0]["samples"] == 44
  assert max(row["accuracy"] for row in in_mix) <= 0.6, in_mix[:3]
  unlabelled = realism.Melodies(real.events, real.groups, np.full(len(real.events), -1))
  assert realism.what_gives_them_away(generated, unlabelled, 16, repeats=1)[0]["mix"] == "asked"
  with pytest.raises(ValueError, match="mix"):
    realism.what_gives_them_away(generated, real, 16, mix="equal")


def test_each_row_compares_the_requested_quadrant_with_the_judged_one(monkeypatch):
  generated = realism.generated_melodies(list(np.ones((40, 8), np.int64)), np.arange(40) % 4)
  real = realism.Melodies(np.ones((30, 8), np.int64), np.arange(30) // 3, np.arange(30) % 3)
  seen = []

  def fake_compare(generated, real, steps_per_bar, seed, classifiers):
    seen.append((set(generated.quadrants), set(real.quadrants), len(generated.events),
                 len(real.events), seed))
    if not len(real.events):
      return {}
    return {name: np.full(realism.FOLDS, 0.5 + 0.1 * seed) for name in classifiers}

  monkeypatch.setattr(realism, "compare", fake_compare)
  rows = realism.model_rows(generated, real, 16, repeats=2)
  assert seen[:2] == [({0, 1, 2, 3}, {0, 1, 2}, 40, 30, 0), ({0, 1, 2, 3}, {0, 1, 2}, 40, 30, 1)]
  # real_mix: the samples in the real tunes' shares (a third each of happy, tense, sad)
  assert seen[2:4] == [({0, 1, 2}, {0, 1, 2}, 30, 30, 0), ({0, 1, 2}, {0, 1, 2}, 30, 30, 1)]
  for q in range(4):
    for seed, call in enumerate(seen[4 + 2 * q:6 + 2 * q]):
      assert call == ({q}, {q} if q < 3 else set(), 10, 10 if q < 3 else 0, seed)
  assert [(r["subset"], r["classifier"]) for r in rows] == [
      (s, c) for s in realism.SUBSETS for c in realism.CLASSIFIERS]
  happy = next(r for r in rows if r["subset"] == "happy" and r["classifier"] == "features")
  assert (happy["generated"], happy["real"]) == (10, 10)
  assert happy["accuracy"] == pytest.approx(0.55) and happy["std"] == pytest.approx(0.05)
  calm = next(r for r in rows if r["subset"] == "calm")  # no real calm tune: no accuracy
  assert np.isnan(calm["accuracy"]) and calm["real"] == 0
  features_only = realism.model_rows(generated, real, 16, repeats=1, classifiers=("features",))
  assert [(r["subset"], r["classifier"]) for r in features_only] == [
      (s, "features") for s in realism.SUBSETS]


def _cache_of(tune: np.ndarray, steps_per_bar: int = 16, window_bars: int = 16, hop: int = 4):
  """Cache arrays of one test tune's windows (start_bar 0, hop, 2 hop, ...; the last ones
  shorter), beside a transposed copy, a training window and a 3/4 window that must be left out."""
  bars = len(tune) // steps_per_bar
  starts = list(range(0, bars - 1, hop))
  events = np.zeros((len(starts) + 3, window_bars * steps_per_bar), np.int8)
  lengths = []
  for row, start in enumerate(starts):
    window = tune[start * steps_per_bar:(start + window_bars) * steps_per_bar]
    events[row, :len(window)] = window
    lengths.append(len(window))
  events[len(starts):] = tune[:window_bars * steps_per_bar]
  count = len(events)
  column = lambda values, extra: np.array(list(values) + list(extra))
  return {
      "events": events, "lengths": column(lengths, [256, 256, 192]),
      "steps_per_bar": column([16] * len(starts), [16, 16, 12]),
      "split": column([sources_lib.SPLITS.index("test")] * len(starts),
                      [sources_lib.SPLITS.index("test"), sources_lib.SPLITS.index("train"),
                       sources_lib.SPLITS.index("test")]),
      "transposition": column([0] * len(starts), [2, 0, 0]),
      "piece": np.zeros(count, np.int64), "segment": np.zeros(count, np.int64),
      "start_bar": column(starts, [0, 0, 0])}


def test_real_tunes_cut_and_join_the_windows_of_a_tune():
  tune = _walks(tunes=1, windows=1, bars=40, seed=1).events[0]
  arrays = _cache_of(tune)
  for bars, starts in ((32, (0, 4, 8)), (16, range(0, 25, 4)), (8, range(0, 33, 4))):
    real = realism.real_tunes(arrays, bars, 16, THRESHOLDS)
    expected = [tune[s * 16:(s + bars) * 16] for s in starts]
    np.testing.assert_array_equal(real.events, np.stack(expected))
    assert real.groups.tolist() == [0] * len(expected)
    np.testing.assert_array_equal(real.quadrants, judge.labels(expected, 16, THRESHOLDS))
  assert len(realism.real_tunes(arrays, 48, 16, THRESHOLDS).events) == 0  # longer than the tune


def test_the_memorizer_draws_training_spans_per_quadrant_grouped_by_tune():
  """realism.training_tunes: only the training split's untransposed spans, at most per_quadrant
  of each quadrant the judge gives (all of a scarcer one), each grouped by its tune; a seed
  draws the same spans again, another seed others."""
  walks = _walks(tunes=24, windows=1, bars=4, seed=3)
  count = len(walks.events)
  splits = np.array([sources_lib.SPLITS.index("train")] * count)
  splits[:4] = sources_lib.SPLITS.index("test")
  arrays = {"events": np.concatenate([walks.events, walks.events[:2] + 2]).astype(np.int8),
            "lengths": np.full(count + 2, 64), "steps_per_bar": np.full(count + 2, 16),
            "split": np.concatenate([splits, [sources_lib.SPLITS.index("train")] * 2]),
            "transposition": np.array([0] * count + [2, 2]),
            "piece": np.arange(count + 2) + 100, "segment": np.zeros(count + 2, np.int64),
            "start_bar": np.zeros(count + 2, np.int64)}
  everything = realism.real_tunes(arrays, 4, 16, THRESHOLDS, split="train")
  assert len(everything.events) == count - 4  # the test tunes and the transposed copies left out
  available = np.bincount(everything.quadrants, minlength=4)
  assert available.max() > 3 > 0, available  # a quadrant to draw down
  drawn = realism.training_tunes(arrays, 4, 16, THRESHOLDS, per_quadrant=3, seed=0)
  np.testing.assert_array_equal(np.bincount(drawn.quadrants, minlength=4),
                                np.minimum(available, 3))
  assert set(drawn.groups) <= set(range(104, 100 + count))  # training tunes, as their pieces
  for events, piece in zip(drawn.events, drawn.groups):
    np.testing.assert_array_equal(events, arrays["events"][piece - 100])
  again = realism.training_tunes(arrays, 4, 16, THRESHOLDS, per_quadrant=3, seed=0)
  np.testing.assert_array_equal(again.groups, drawn.groups)
  other = realism.training_tunes(arrays, 4, 16, THRESHOLDS, per_quadrant=3, seed=1)
  assert other.groups.tolist() != drawn.groups.tolist()


def test_tune_draws_take_whole_tunes_up_to_the_held_out_size():
  """realism.tune_draws: each draw is `count` spans, every tune in it whole but the last one
  taken (its first spans), draws differ, a seed repeats them; a pool no larger than count is
  itself."""
  pool = _walks(tunes=30, windows=4, bars=1, seed=2)
  draws = realism.tune_draws(pool, 10, draws=4, seed=0)
  assert len(draws) == 4 and all(len(d.events) == 10 for d in draws)
  for drawn in draws:
    tunes, counts = np.unique(drawn.groups, return_counts=True)
    assert len(tunes) == 3 and sorted(counts.tolist()) == [2, 4, 4]  # two whole, one cut
    cut = tunes[np.argmin(counts)]
    np.testing.assert_array_equal(drawn.events[drawn.groups == cut],
                                  pool.events[pool.groups == cut][:2])
  assert len({tuple(d.groups) for d in draws}) > 1
  again = realism.tune_draws(pool, 10, draws=4, seed=0)
  assert [d.groups.tolist() for d in again] == [d.groups.tolist() for d in draws]
  assert realism.tune_draws(pool, 120, draws=4) == [pool]


def test_pool_rows_are_compares_figures_on_each_draw_and_place_the_held_out_figure():
  """realism.pool_rows computes each side's features once: its drawn row is compare's accuracy
  on each of tune_draws' pools (the mean, spread, lowest and highest over them), its whole-pool
  row compare's on the pool; at_or_under is the share of draws at or under the reference."""
  pool = _walks(tunes=40, windows=3, bars=2, seed=0)
  generated = _walks(tunes=20, windows=1, bars=2, seed=7, first_group=500)
  rows = realism.pool_rows(generated, pool, 30, 16, draws=4, seed=3, repeats=2, reference=0.6)

  def accuracy(real):
    return np.mean([v for r in range(2) for v in realism.compare(generated, real, 16, r,
                                                                 ("features",))["features"]])
  per_draw = np.array([accuracy(d) for d in realism.tune_draws(pool, 30, draws=4, seed=3)])
  drawn, every = rows
  np.testing.assert_allclose([drawn["accuracy"], drawn["std"], drawn["lowest"], drawn["highest"]],
                             [per_draw.mean(), per_draw.std(), per_draw.min(), per_draw.max()])
  assert drawn["at_or_under"] == pytest.approx(float((per_draw <= 0.6).mean()))
  np.testing.assert_allclose(every["accuracy"], accuracy(pool))
  assert np.isnan(every["at_or_under"])
  assert np.isnan(realism.pool_rows(generated, pool, 30, 16, draws=2, repeats=1)[0]["at_or_under"])


def test_pool_rows_find_a_broken_generator_and_not_the_pools_own_tunes():
  """realism.pool_rows against draws of real walks the size of a small split, then all of them:
  other walks of the same kind about 0.5, a one-note generator about 1.0 in both rows."""
  pool = _walks(tunes=60, windows=3, bars=2, seed=0)
  held_out = _walks(tunes=15, windows=3, bars=2, seed=5, first_group=100)
  alike = realism.pool_rows(held_out, pool, 45, 16, draws=3, repeats=2)
  assert [r["pool"] for r in alike] == ["drawn", "all"]
  assert alike[0]["draws"] == 3 and alike[0]["real"] == 45 and alike[1]["real"] == 180
  assert alike[0]["lowest"] <= alike[0]["accuracy"] <= alike[0]["highest"]
  for row in alike:
    assert abs(row["accuracy"] - 0.5) <= 0.15, alike
  broken = realism.pool_rows(_broken("one_note", 60, 32), pool, 45, 16, draws=2, repeats=1)
  assert all(row["accuracy"] >= 0.95 for row in broken), broken


@pytest.mark.slow  # 20 s of classifier fits: the full suite's
def test_on_real_nottingham_windows(nottingham_40, optimized_classifiers):
  """8-bar spans of the 40 tunes' 4/4 and 2/2 training windows: against themselves about 0.5
  (averaged over ten splits by tune: one split of 12 tunes swings widely), a random generator
  found; and the folds of tunes and samples never share a tune."""
  _, arrays, manifest = nottingham_40
  real = realism.real_tunes(arrays, 8, 16, judge.thresholds_of(manifest), split="train")
  assert len(np.unique(real.groups)) >= 2 * realism.FOLDS
  real = realism.Melodies(real.events, real.groups, np.full(len(real.groups), -1))  # overall only
  rows = realism.real_against_real(real, 16, repeats=10)
  for row in rows[:len(realism.CLASSIFIERS)]:
    assert row["subset"] == "overall" and abs(row["accuracy"] - 0.5) <= 0.12, row
  generated = _broken("random", len(real.events), 8 * 16)
  classes = np.repeat([1, 0], [len(generated.events), len(real.events)])
  fold = realism.group_folds(np.concatenate([generated.groups, real.groups]), classes)
  for piece in np.unique(real.groups):
    assert len(np.unique(fold[len(generated.events):][real.groups == piece])) == 1
  found = realism.compare(generated, real, 16)
  assert all(found[name].mean() >= 0.95 for name in realism.CLASSIFIERS), found


def test_what_gives_them_away_names_the_block_and_feature_that_differ():
  """Samples that are the real walks moved one step later (every onset off the beat, the same
  pitches): the onset-position block alone tells them apart, pitch classes do not, and the most
  different feature is an onset step the samples use and the real tunes never do (off the beat)."""
  real = _walks(tunes=30, windows=2, bars=2, seed=0)
  shifted = np.concatenate([np.zeros((len(real.events), 1), np.int64), real.events[:, :-1]], 1)
  samples = realism.generated_melodies(list(shifted), real.quadrants)
  rows = realism.what_gives_them_away(samples, real, 16, repeats=1)
  by_block = {row["block"]: row for row in rows}
  assert list(by_block) == [row["block"] for row in sorted(rows, key=lambda r: -r["accuracy"])]
  assert set(by_block) == set(realism.feature_blocks(16))
  assert rows[0]["block"] == "onset_position" and rows[0]["accuracy"] >= 0.95
  assert by_block["pitch_class"]["accuracy"] <= 0.75
  onset = by_block["onset_position"]
  assert onset["feature"] == "step 1" and onset["generated_mean"] > 0.0 == onset["real_mean"]
  assert realism.what_gives_them_away(samples.subset(np.arange(3)), real, 16) == []
