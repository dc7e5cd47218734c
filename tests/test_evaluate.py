"""The evaluation harness end to end on a tiny trained model and real test melodies."""

import csv

import numpy as np
import pytest
from tool_driver import ToolDriver, user_env

from hrnnvae import judge
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib
from hrnnvae.evaluation import harness, realism, scoring
from hrnnvae.evaluation import report as report_lib
from hrnnvae.metrics import counting
from hrnnvae.sample import Sampler


@pytest.fixture(scope="session")
def tiny_sampler(tiny_workdir):
  """The tiny model's sampler, shared so that its jitted encode and decode compile once."""
  return Sampler.load(tiny_workdir / "export")


@pytest.fixture(scope="session")
def tiny_report(tiny_workdir, nottingham_40, tmp_path_factory):
  """(harness.run's result, its report folder) for the tiny model on the 40 tunes."""
  out = tmp_path_factory.mktemp("report")
  return harness.run([tiny_workdir], nottingham_40[0], num_samples=2, seeds=[0, 1], bars=4,
                     out=out, realism_bars=(4,)), out


def test_the_pool_table_shows_each_draw_spread_and_a_dash_where_nothing_was_measured(tmp_path):
  """report._pool_section: a measured row's drawn cell is mean ± std (draws), then lowest –
  highest, the share of draws at or under the test figure, then the whole pool's mean ± std; a
  row a side of which was too small is dashes; the CSV keeps every row."""
  row = {"model": "m", "bars": 16, "generated": 256}
  rows = [{**row, "pool": "drawn", "accuracy": 0.71234, "std": 0.02, "lowest": 0.69,
           "highest": 0.754, "draws": 20, "real": 336, "at_or_under": 0.15},
          {**row, "pool": "all", "accuracy": 0.742, "std": 0.047, "lowest": 0.742,
           "highest": 0.742, "draws": 1, "real": 2470, "at_or_under": np.nan},
          {**row, "model": "n", "pool": "drawn", "accuracy": np.nan, "std": np.nan,
           "lowest": np.nan, "highest": np.nan, "draws": 20, "real": 41, "at_or_under": np.nan},
          {**row, "model": "n", "pool": "all", "accuracy": 0.6, "std": 0.1, "lowest": 0.6,
           "highest": 0.6, "draws": 1, "real": 110, "at_or_under": np.nan}]
  lines = report_lib._pool_section(tmp_path, rows)
  assert ("| m | 16 | 0.712 ± 0.020 (20) | 0.690 – 0.754 | 0.15 | 0.742 ± 0.047 | "
          "256 / 336, 2470 |") in lines
  assert "| n | 16 | – | – | – | 0.600 ± 0.100 | 256 / 41, 110 |" in lines
  with open(tmp_path / "realism_pools.csv") as f:
    assert [(r["model"], r["pool"]) for r in csv.DictReader(f)] == [
        ("m", "drawn"), ("m", "all"), ("n", "drawn"), ("n", "all")]


@pytest.mark.slow
def test_report_has_every_table_and_the_test_set_first(tiny_workdir, tiny_sampler, nottingham_40,
                                                       tiny_report):
  result, tmp_path = tiny_report
  report = (tmp_path / "report.md").read_text()
  for heading in ("Table 2 style", "Every metric", "Likelihood on the test split",
                  "Emotional consistency", "Realism"):
    assert heading in report
  rows = [line.split(" | ")[0].strip("| ") for line in report.splitlines()
          if line.startswith("| ") and " ± " in line]
  assert rows[0] == report_lib.TEST_ROW and tiny_workdir.name in rows
  name = tiny_workdir.name
  assert result["confusions"][name].sum() == 2 * 4 * 2  # seeds x emotions x samples
  assert len(result["rows"][name]["bleu4"]) == 2  # one value per seed: the spread
  likelihood = result["likelihoods"][name]
  assert all(np.isfinite(v) for v in likelihood.values())
  assert 0 <= likelihood["teacher_forced_accuracy"] <= 1
  assert likelihood["nll_per_melody"] <= -likelihood["elbo_per_melody"] + 5.0  # IWAE <= -ELBO
  assert likelihood["latent_gap"] == pytest.approx(
      likelihood["cross_entropy_shuffled_z"] - likelihood["cross_entropy_per_step"])
  assert list(result["likelihoods"]) == [counting.COUNTING_ROW, counting.MAJORITY_ROW, name]
  counted = result["likelihoods"][counting.COUNTING_ROW]
  majority = result["likelihoods"][counting.MAJORITY_ROW]
  assert counted["teacher_forced_accuracy"] > majority["teacher_forced_accuracy"]
  table = report[report.index("Likelihood on the test split"):].splitlines()
  header = next(line for line in table if line.startswith("| model |")).split(" | ")
  counting_cells = next(line for line in table if line.startswith(f"| {counting.COUNTING_ROW}"))
  assert counting_cells.split(" | ")[header.index("elbo_per_melody")] == "–"
  with open(tmp_path / "metrics.csv") as f:
    models = {row["model"] for row in csv.DictReader(f)}
  assert models == {report_lib.TEST_ROW, name}
  # Realism: the test split against itself first, the memorizer (training tunes, at most 2 per
  # quadrant, against the test tunes), then the model's first-seed samples (8 of them).
  with open(tmp_path / "realism.csv") as f:
    realism_rows = list(csv.DictReader(f))
  per_model = 2 * len(realism.SUBSETS)  # overall, real_mix and 4 quadrants, 2 classifiers each
  assert [r["model"] for r in realism_rows[::per_model]] == [
      report_lib.TEST_ROW, report_lib.MEMORIZER_ROW, name]
  memorizer = realism_rows[per_model:2 * per_model]
  assert 4 <= int(memorizer[0]["generated"]) <= 2 * 4
  assert all(int(r["generated"]) <= 2 for r in memorizer if r["subset"] in emotion_lib.EMOTIONS)
  test_spans = realism.real_tunes(nottingham_40[1], 4, 12, judge.thresholds_of(nottingham_40[2]))
  assert {int(r["real"]) for r in memorizer[:2]} == {len(test_spans.events)}  # the test's jigs
  assert {int(r["generated"]) for r in realism_rows[2 * per_model:2 * per_model + 2]} == {2 * 4}
  assert [r["subset"] for r in realism_rows[2 * per_model::2]] == list(realism.SUBSETS)
  assert len(result["realism"]) == len(realism_rows) == 3 * per_model
  assert f"| {report_lib.MEMORIZER_ROW} | 4 | features |" in report
  assert "| model | bars | classifier | overall | real_mix | happy |" in report
  # Realism against the training tunes: the test tunes themselves first, then the model, each
  # against draws of training tunes the test split's size and against all of them.
  with open(tmp_path / "realism_pools.csv") as f:
    pools = list(csv.DictReader(f))
  assert [(r["model"], r["pool"]) for r in pools] == [
      (report_lib.TEST_ROW, "drawn"), (report_lib.TEST_ROW, "all"), (name, "drawn"), (name, "all")]
  training_spans = realism.real_tunes(nottingham_40[1], 4, 12, judge.thresholds_of(nottingham_40[2]),
                                      split="train")
  assert [int(r["real"]) for r in pools] == [len(test_spans.events), len(training_spans.events)] * 2
  assert int(pools[2]["generated"]) == 2 * 4 and int(pools[2]["draws"]) == realism.POOL_DRAWS
  assert len(result["realism_pools"]) == 4
  assert "## Realism against the training tunes" in report
  # The 40 tunes' training jigs are long: a draw of the test's 41 spans holds under 5 tunes, too
  # few to cross-validate, so the drawn cells are dashes; the whole pool is measured.
  assert np.isnan(float(pools[2]["accuracy"])) and not np.isnan(float(pools[3]["accuracy"]))
  assert (f"| {name} | 4 | – | – | – | {float(pools[3]['accuracy']):.3f} ± "
          f"{float(pools[3]['std']):.3f} | 8 / {len(test_spans.events)}, "
          f"{len(training_spans.events)} |") in report
  # Emotion control: the judge's per-quadrant agreement from its confusion matrix, E's beside it.
  assert "Emotion control" in report and "E agreement" in report
  confusion = result["confusions"][name]
  agreement = scoring.per_quadrant_agreement(confusion)
  np.testing.assert_allclose(agreement, np.diag(confusion) / confusion.sum(1))
  assert np.mean(agreement) == pytest.approx(np.mean(result["rows"][name]["emotion_consistency"]))
  assert all(0 <= v <= 1 for v in result["rows"][name]["classifier_agreement"])
  features = result["rows"][name]["_emotion_features"]
  assert sum(len(features[q]["note_density"]) for q in range(4)) == 2 * 4 * 2  # every sample
  for png in ("emotion_note_density.png", "emotion_mean_abs_interval.png", "box_pitch_range.png",
              f"roll_{report_lib._slug(name)}.png", "roll_test_set.png"):
    assert (tmp_path / png).stat().st_size > 0
  # Whole-tune rolls at the longest realism length: test tunes first, then each model's.
  assert "## Piano rolls of 4-bar tunes" in report
  assert report.index(f"rolls_4bars_{report_lib._slug(report_lib.TEST_ROW)}.png") < report.index(
      f"rolls_4bars_{report_lib._slug(name)}.png")
  for model in (report_lib.TEST_ROW, name):
    assert (tmp_path / f"rolls_4bars_{report_lib._slug(model)}.png").stat().st_size > 0
  # What gives the samples away: every feature block, most telling first, in the report.
  giveaways = result["giveaways"][name]
  assert {row["block"] for row in giveaways} == set(realism.feature_blocks(16))
  assert [row["accuracy"] for row in giveaways] == sorted((r["accuracy"] for r in giveaways),
                                                          reverse=True)
  assert "## What gives the 4-bar samples away" in report
  assert f"| {giveaways[0]['block']} | {giveaways[0]['accuracy']:.3f} ± " in report
  # Prior samples drew z from the latent prior that training fitted, and the report says so.
  assert result["priors"][name] == "fitted" and "the fitted latent prior" in report
  assert result["guidances"][name] == 1.0 and f"emotion guidance {name}: 1" in report
  # No --temperature: the model's own (its export's sampling facts), and the report says which.
  sampler = tiny_sampler
  assert result["temperatures"][name] == sampler.temperature
  assert f"temperature {name}: {sampler.temperature:g};" in report
  # Emotion transfer on the unseen tunes: the report's row is emotion_transfer's own, over the
  # run's seeds, each seed's agreement beside the mean.
  thresholds = judge.thresholds_of(nottingham_40[2])
  transfer = result["transfers"][name]
  assert transfer == scoring.emotion_transfer(
      sampler, nottingham_40[1], thresholds, [sampler.temperature], [0, 1])["rows"][0]
  by_seed = " / ".join(f"{a:.3f}" for a in transfer["judge_agreement_by_seed"])
  assert f"{transfer['judge_agreement']:.3f} (by seed {by_seed})" in report
  assert "Emotion transfer" in report
  # Onset pitch accuracy against a plain-numpy recount of greedy decodes of the test melodies.
  arrays = nottingham_40[1]
  test_rows, _ = scoring.test_melodies(arrays)
  events, lengths, spb = (arrays[k][test_rows] for k in ("events", "lengths", "steps_per_bar"))
  mu, _ = sampler.posterior(events, lengths, spb)
  greedy = sampler.decode(mu, arrays["emotion"][test_rows], events.shape[1], 0, 1e-4,
                          steps_per_bar=spb)
  both = ((np.arange(events.shape[1])[None] < lengths[:, None])
          & (events >= events_lib.FIRST_PITCH_EVENT) & (greedy >= events_lib.FIRST_PITCH_EVENT))
  expected = (greedy == events)[both].mean() if both.any() else 0.0
  assert likelihood["sampled_onset_pitch_accuracy"] == pytest.approx(expected, abs=0.02)


@pytest.mark.slow
def test_shuffled_latents_come_from_other_tunes(nottingham):
  _, arrays, _ = nottingham
  rows, _ = scoring.test_melodies(arrays)
  order = scoring._unrelated_neighbours(rows)
  assert sorted(order.tolist()) == rows.tolist()
  pieces = arrays["piece"][order]
  assert not np.any(pieces[1:] == pieces[:-1])  # neighbours, whose mu is swapped, differ in tune
  assert scoring._unrelated_neighbours(np.arange(5)).tolist() == [0, 3, 1, 4, 2]


@pytest.mark.parametrize("case, needle", [
    ("no_inputs", "pass --workdirs=RUN[,RUN...] and --dataset_cache=CACHE"),
    ("negative_seed", "--seeds must be at least 0 and at most 4294967295, not -1"),
    ("temperature", "--temperature must be above 0"),
    ("realism_bars", "--realism_bars must be at least 1 and at most 512, not 0"),
])
def test_cli_mistakes_are_one_line(eval_tool, tiny_workdir, nottingham_40, tmp_path, case, needle):
  inputs = [f"--workdirs={tiny_workdir}", f"--dataset_cache={nottingham_40[0]}"]
  args = {"no_inputs": [], "negative_seed": [*inputs, "--seeds=0,-1"],
          "temperature": [*inputs, "--temperature=0"],
          "realism_bars": [*inputs, "--realism_bars=16,0"]}[case]
  result = eval_tool("hrnnvae-eval", [*args, f"--out={tmp_path / 'report'}"])
  lines = [line for line in result.stderr.splitlines() if line.strip()]
  assert result.returncode == 2 and len(lines) == 1, result.stderr[-2000:]
  assert lines[0].startswith("hrnnvae-eval: ") and needle in lines[0], lines[0]
  assert not (tmp_path / "report").exists()


@pytest.fixture(scope="session")
def eval_tool():
  """hrnnvae-eval run in one long-lived interpreter (tests/tool_driver.py), as a user runs it."""
  driver = ToolDriver("hrnnvae.eval_main", user_env())
  yield driver
  driver.close()


def test_emotion_features_group_the_judges_features(nottingham_40):
  """Test tunes grouped by their label: the happy and calm groups are all major, tense and sad
  all minor, and the high-arousal groups are busier than the low ones (the labeller's rule)."""
  _, arrays, manifest = nottingham_40
  rows = np.nonzero(arrays["split"] == 0)[0]
  melodies = [arrays["events"][r, :arrays["lengths"][r]] for r in rows]
  # The judge labels a training window exactly as the data pipeline did, whatever its length.
  np.testing.assert_array_equal(
      judge.labels(melodies, arrays["steps_per_bar"][rows], judge.thresholds_of(manifest)),
      arrays["emotion"][rows])
  groups = scoring.emotion_features(melodies, arrays["steps_per_bar"][rows], arrays["emotion"][rows])
  assert [np.mean(groups[q]["minor"]) for q in range(4)] == [0.0, 1.0, 1.0, 0.0]
  assert np.mean(groups[0]["note_density"]) > np.mean(groups[3]["note_density"])


def test_emotion_transfer_counts_every_other_emotion(tiny_sampler, nottingham_40):
  """scoring.emotion_transfer (launch/reconstruct_check.py prints it): every test window asked
  for each of the three other emotions; agreement and steps kept are shares."""
  _, arrays, manifest = nottingham_40
  sampler = tiny_sampler
  result = scoring.emotion_transfer(sampler, arrays, judge.thresholds_of(manifest), [1e-4], 0)
  windows = len(scoring.opening_windows(arrays, sampler.steps_per_bar))
  assert windows > 0 and result["pairs"] == 3 * windows
  row = result["rows"][0]
  assert 0 <= row["judge_agreement"] <= 1 and 0 <= row["step_match"] <= 1
  assert set(row["per_quadrant"]) <= set(emotion_lib.EMOTIONS)
  # transfer_keep favours each window's own events: at a bias no logit gap reaches, every step
  # is kept; the validation split's windows are others.
  sampler.steer(transfer_keep=20.0)
  try:
    kept = scoring.emotion_transfer(sampler, arrays, judge.thresholds_of(manifest), [1.0], 0)
    valid = scoring.emotion_transfer(sampler, arrays, judge.thresholds_of(manifest), [1.0], 0,
                                     "valid")
  finally:
    sampler.steer(transfer_keep=0.0)
  assert kept["rows"][0]["step_match"] == 1.0
  valid_windows = len(scoring.opening_windows(arrays, sampler.steps_per_bar, "valid"))
  assert 0 < valid_windows != windows  # so the count below tells the splits apart
  assert valid["tunes"] == valid_windows


def test_emotion_transfer_over_seeds_is_the_mean_of_each_seeds_own(tiny_sampler, nottingham_40):
  """scoring.emotion_transfer over a list of seeds: every figure is the mean of the seeds' own
  runs (equal pairs each), and the by-seed lists hold each seed's; one seed is its own mean."""
  _, arrays, manifest = nottingham_40
  thresholds = judge.thresholds_of(manifest)
  each = [scoring.emotion_transfer(tiny_sampler, arrays, thresholds, [1.0], seed)["rows"][0]
          for seed in (0, 1)]
  both = scoring.emotion_transfer(tiny_sampler, arrays, thresholds, [1.0], [0, 1])
  row = both["rows"][0]
  assert both["seeds"] == [0, 1]
  assert row["judge_agreement_by_seed"] == [r["judge_agreement"] for r in each]
  assert row["step_match_by_seed"] == [r["step_match"] for r in each]
  assert each[0]["step_match"] != each[1]["step_match"]  # the seeds decode differently
  np.testing.assert_allclose(row["judge_agreement"], np.mean([r["judge_agreement"] for r in each]))
  np.testing.assert_allclose(row["step_match"], np.mean([r["step_match"] for r in each]))
  for quadrant in row["per_quadrant"]:
    np.testing.assert_allclose(row["per_quadrant"][quadrant],
                               np.mean([r["per_quadrant"][quadrant] for r in each]))
    np.testing.assert_allclose(row["step_match_per_quadrant"][quadrant],
                               np.mean([r["step_match_per_quadrant"][quadrant] for r in each]))
  assert each[0]["judge_agreement_by_seed"] == [each[0]["judge_agreement"]]


def test_reconstruct_check_sweeps_transfer_keep_and_restores_the_models_own(tiny_sampler,
                                                                           nottingham_40):
  """launch/reconstruct_check.py --transfer_keeps: one emotion_transfer row per keep, the steps
  kept rising to every step at a bias no logit gap reaches; the sampler's own keep restored."""
  from conftest import load_launch_script
  check = load_launch_script("reconstruct_check")
  _, arrays, manifest = nottingham_40
  sampler = tiny_sampler
  own = sampler.transfer_keep
  rows = check["transfer_keeps"](sampler, arrays, judge.thresholds_of(manifest), 1.0,
                                 [0.0, 20.0], seed=0)
  assert sampler.transfer_keep == own
  assert [row["transfer_keep"] for row in rows] == [0.0, 20.0]
  plain = scoring.emotion_transfer(sampler, arrays, judge.thresholds_of(manifest), [1.0], 0)
  assert rows[0]["step_match"] == plain["rows"][0]["step_match"] < 1.0
  assert rows[1]["step_match"] == 1.0
  # --transfer_seeds: each row the mean over the seeds, each seed's own beside it.
  over_seeds = check["transfer_keeps"](sampler, arrays, judge.thresholds_of(manifest), 1.0, [0.0],
                                       seed=[0, 1])[0]
  other = scoring.emotion_transfer(sampler, arrays, judge.thresholds_of(manifest), [1.0], 1)
  assert over_seeds["step_match_by_seed"] == [plain["rows"][0]["step_match"],
                                              other["rows"][0]["step_match"]]


def test_pitch_check_prints_the_likelihood_rows_pitch_measures(tiny_workdir, nottingham_40,
                                                              tiny_report, tmp_path):
  """launch/pitch_check.py (issue 19's measure of what z carries): its figures are the harness's
  likelihood row's, and the onset-pitch ones are shares."""
  import json
  import pathlib
  import subprocess
  import sys
  script = pathlib.Path(__file__).parent.parent / "launch" / "pitch_check.py"
  out = tmp_path / "pitch.json"
  result = subprocess.run([sys.executable, str(script), f"--models={tiny_workdir}",
                           f"--cache={nottingham_40[0]}", f"--json={out}"],
                          capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  row = json.loads(out.read_text())[str(tiny_workdir)]
  expected = tiny_report[0]["likelihoods"][tiny_workdir.name]  # scoring.likelihood_row's
  assert row == pytest.approx({name: expected[name] for name in row}, abs=1e-6)
  assert 0 <= row["onset_pitch_accuracy_shuffled_z"] <= 1 and 0 < row["onset_pitch_accuracy"] <= 1
  assert str(tiny_workdir) in result.stdout


def test_real_rolls_take_one_test_tune_per_quadrant_the_judge_gives():
  events = np.arange(5 * 8).reshape(5, 8)
  real = realism.Melodies(events, groups=np.array([10, 11, 12, 13, 14]),
                          quadrants=np.array([0, 0, 2, 3, 3]))
  steps_per_bar, chosen = harness._real_rolls(real, 4, seed=0)
  assert steps_per_bar == 4 and len(chosen) == 3  # no tense span: no tense roll
  titles = [title for _, title in chosen]
  assert [title.split(": judged ")[1] for title in titles] == ["happy", "sad", "calm"]
  for melody, title in chosen:
    row = int(np.nonzero((events == melody).all(1))[0][0])
    assert title.startswith(f"test tune {10 + row}:")
  assert [t for _, t in harness._real_rolls(real, 4, seed=0)[1]] == titles  # seeded


def test_interpolation_ends_are_the_inputs_own_reconstructions(tiny_workdir, nottingham_40):
  """scoring.interpolation_ends (launch/reconstruct_check.py prints it): decoded greedily, a
  path's first end is the greedy reconstruction of its first tune (slerp starts at that tune's
  mu), so the share of steps kept at the first ends is the reconstruction's on those windows."""
  sampler = Sampler.load(tiny_workdir / "export")
  sampler.steer(temperature=1e-4)
  arrays = nottingham_40[1]
  ends = scoring.interpolation_ends(sampler, arrays, seed=0)
  rows = scoring.opening_windows(arrays, sampler.steps_per_bar)
  first = rows[0:2 * ends["pairs"]:2]
  events, lengths = arrays["events"][first].astype(np.int64), arrays["lengths"][first]
  mu, _ = sampler.posterior(events, lengths, arrays["steps_per_bar"][first])
  greedy = sampler.decode(mu, arrays["emotion"][first], events.shape[1], 0)
  real = np.arange(events.shape[1])[None] < lengths[:, None]
  kept = (((greedy == events) & real).sum(1) / lengths).mean()
  assert ends["pairs"] == len(rows) // 2 and ends["temperature"] == pytest.approx(1e-4)
  assert ends["first_end"] == pytest.approx(kept, abs=1e-6)
  assert 0 <= ends["ends_at_80_percent"] <= 1


def test_giveaway_check_prints_what_gives_each_models_samples_away(tiny_workdir, nottingham_40,
                                                                   tmp_path):
  """launch/giveaway_check.py: for each model and length, realism.what_gives_them_away on the
  model's seed-0 samples against the split's real tunes, as the harness computes it."""
  import json
  import pathlib
  import subprocess
  import sys
  script = pathlib.Path(__file__).parent.parent / "launch" / "giveaway_check.py"
  out = tmp_path / "giveaways.json"
  result = subprocess.run([sys.executable, str(script), f"--models={tiny_workdir}",
                           f"--cache={nottingham_40[0]}", "--split=test", "--bars=4",
                           "--num_samples=6", f"--json={out}"],
                          capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  rows = json.loads(out.read_text())[str(tiny_workdir)]["4"]
  sampler = Sampler.load(tiny_workdir / "export")
  requested = scoring.requested_emotions(6)
  melodies = [m.events for m in sampler.sample(requested, 4, 0)]
  real = realism.real_tunes(nottingham_40[1], 4, sampler.steps_per_bar,
                            judge.thresholds_of(nottingham_40[2]))
  expected = realism.what_gives_them_away(realism.generated_melodies(melodies, requested), real,
                                          sampler.steps_per_bar)
  assert rows == pytest.approx(expected) and len(rows) == len(realism.feature_blocks(16))
  assert f"{tiny_workdir}, 4 bars ({rows[0]['samples']} samples, {rows[0]['mix']} mix), " \
         f"against {len(real.events)} test spans" in result.stdout


def test_shape_shares_count_one_step_notes_and_the_tonic_by_hand():
  c_major = [60, 62, 64, 65, 67, 69, 71, 72]
  sixteenths = events_lib.pitch_to_event(np.array(c_major * 4))  # 32 notes of one step each
  quarters = np.full(32, events_lib.HOLD)
  quarters[::4] = events_lib.pitch_to_event(np.array(c_major))  # 8 notes of four steps each
  melodies = [sixteenths, quarters]
  shares = scoring.shape_shares(melodies, 16)
  # Every note of the first lasts one step, none of the second's.
  assert np.isclose(shares["one_step_notes"], 0.5)
  tonics = judge.features(melodies, 16).key_tonic
  by_hand = [np.mean([(pitch - tonic) % 12 == 0 for _, _, pitch in events_lib.events_to_notes(m)])
             for m, tonic in zip(melodies, tonics)]
  assert 0 < np.mean(by_hand) < 1 and np.isclose(shares["tonic_share"], np.mean(by_hand))


def test_the_report_names_each_models_own_quadrant_guidance():
  """The sampling paragraph's guidance clause: every model's guidance, then the quadrants a model
  guides by its own amount (a model with none adds nothing)."""
  text = harness.guidance_text({"plain": 1.0, "jsb": 1.5},
                               {"plain": {}, "jsb": {"tense": 3.0, "sad": 1.25}})
  assert text == "emotion guidance plain: 1, jsb: 1.5 (1: none; jsb asks tense 3, sad 1.25)"
  assert harness.guidance_text({"plain": 1.0}, {"plain": {}}) == "emotion guidance plain: 1 (1: none)"

