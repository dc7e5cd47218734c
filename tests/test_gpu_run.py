"""The GPU session's two commands, launch/gpu_prepare.sh (here) and launch/gpu_run.sh (there), on the CPU.

hrnnvae/gpu_run/'s parts are tested alone: the budget's plan, the pack's limits and summary.json,
and the supervision (deadlines, SIGINT, SIGKILL, resume, benchmarks, latent-prior fits and the
evaluation) on a fake python that plays the children. The end-to-end test runs gpu_run.sh in its
tiny mode (configs/tiny.py, caches of 40 tunes) twice on one OUT_DIR, as a GPU session would: the
first call trains until the deadline's SIGINT, fits the latent prior, evaluates and packs; the
second resumes the training and is stopped by a TERM. The wheel download needs a package registry,
so CI checks only its dry run.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import tarfile
import textwrap
import time
import zipfile

import pytest

from hrnnvae.gpu_run import packing, planning, processes, travel
from hrnnvae.gpu_run.session import Session

ROOT = pathlib.Path(__file__).parent.parent
MB = 10 ** 6


def _env(**extra) -> dict:
  env = dict(os.environ)
  env.update(PYTHON=sys.executable, **extra)
  return env


def _run(*args, env=None, timeout=600) -> subprocess.CompletedProcess:
  return subprocess.run(["bash", *map(str, args)], cwd=ROOT, env=env or _env(), capture_output=True,
                        text=True, timeout=timeout)


def test_prepare_dry_run_lists_the_wheels_and_caches(tmp_path):
  datasets = tmp_path / "datasets"
  for name in ("nottingham", "jsb_chorales"):
    (datasets / name).mkdir(parents=True)
  out = tmp_path / "carry"
  result = _run("launch/gpu_prepare.sh", out, f"--datasets={datasets}", "--dry-run")
  assert result.returncode == 0, result.stderr[-2000:]
  lines = result.stdout.splitlines()
  downloads = [line for line in lines if " pip download " in line]
  # the versions this venv runs, for the GPU machine's Python and platform
  for name in ("ml-collections", "tensorboardX"):
    assert any(f"{name}=={importlib.metadata.version(name)}" in line for line in downloads), downloads
  assert all("--python-version 3.12" in line and "--only-binary=:all:" in line
             and "manylinux2014_x86_64" in line and "--no-deps" in line for line in downloads)
  prepares = [line for line in lines if "hrnnvae.data.main prepare" in line]
  assert len(prepares) == 2 and "nottingham" in prepares[0] and "jsb_chorales" in prepares[1]
  assert all("--transpose=5" in line for line in prepares)  # as both GPU configs train
  assert not out.exists()  # a dry run writes nothing


def test_prepare_needs_the_datasets(tmp_path):
  env = _env()
  env.pop("HRNNVAE_DATASETS", None)
  result = _run("launch/gpu_prepare.sh", tmp_path / "carry", "--dry-run", env=env)
  assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
  assert "--datasets=DIR" in result.stderr and "HRNNVAE_DATASETS" in result.stderr


def test_the_working_tree_leaves_room_for_the_carry():
  """The working tree travels to the GPU machine with gpu_prepare's carry (caches and wheels,
  about 5 MiB), and gpu_prepare refuses over travel.PREPARE_LIMIT together. Committed result
  renders (the rolls' WAVs, 2.8 MiB each) once pushed the tree to 52 MiB and failed the end-to-end
  test below only in CI's slow tier; this says so at once, with the largest files."""
  if not (ROOT / ".git").exists():
    pytest.skip("not a git checkout")
  sizes = travel.working_tree_sizes(ROOT)
  assert "hrnnvae/gpu_run/travel.py" in sizes and "launch/gpu_prepare.sh" in sizes
  assert sum(sizes.values()) <= travel.TREE_LIMIT < travel.PREPARE_LIMIT < travel.TRAVEL_LIMIT, (
      f"the working tree holds {sum(sizes.values()) / travel.MIB:.1f} MiB (at most "
      f"{travel.TREE_LIMIT // travel.MIB}: the carry needs the rest of gpu_prepare's "
      f"{travel.PREPARE_LIMIT // travel.MIB}); largest: {travel.largest(sizes)}")


def test_the_travel_check_counts_untracked_files_and_refuses_over_its_limit(tmp_path, monkeypatch,
                                                                           capsys):
  """gpu_prepare's own check (travel.check): an untracked file travels and counts, an ignored one
  does not; past PREPARE_LIMIT it refuses (status 1) and names the largest file."""
  repo = tmp_path / "repo"
  (repo / "runs" / "gpu_carry").mkdir(parents=True)
  subprocess.run(["git", "init", "-q", str(repo)], check=True)
  (repo / ".gitignore").write_text("runs/\n")
  (repo / "tracked.txt").write_bytes(b"x" * 1000)
  (repo / "untracked.bin").write_bytes(b"x" * 5000)
  (repo / "runs" / "ignored.bin").write_bytes(b"x" * 90000)
  (repo / "runs" / "gpu_carry" / "examples.npz").write_bytes(b"x" * 3000)
  subprocess.run(["git", "add", "tracked.txt", ".gitignore"], cwd=repo, check=True)
  sizes = travel.working_tree_sizes(repo)
  assert sizes == {".gitignore": 6, "tracked.txt": 1000, "untracked.bin": 5000}
  assert travel.check(repo, repo / "runs" / "gpu_carry") == 0
  assert 'carry: ["runs/gpu_carry"]' in capsys.readouterr().out
  monkeypatch.setattr(travel, "PREPARE_LIMIT", 6006 + 2999)
  assert travel.check(repo, repo / "runs" / "gpu_carry") == 1
  assert "untracked.bin" in capsys.readouterr().err


def test_run_refuses_bad_arguments(tmp_path):
  assert _run("launch/gpu_run.sh").returncode == 2
  assert _run("launch/gpu_run.sh", "soon", tmp_path / "out").returncode == 2
  result = _run("launch/gpu_run.sh", "60", tmp_path / "out",
                env=_env(HRNNVAE_GPU_CARRY=str(tmp_path / "missing")))
  assert result.returncode == 2 and "gpu_prepare.sh" in result.stderr
  (tmp_path / "carry" / "caches").mkdir(parents=True)
  for budget, runs, says in ((60, "", "a budget of 60 s is too small: give at least 295 s"),
                             (600, "nottinghm", "HRNNVAE_GPU_RUNS names no such run: nottinghm")):
    result = _run("launch/gpu_run.sh", budget, tmp_path / "out",
                  env=_env(HRNNVAE_GPU_CARRY=str(tmp_path / "carry"), HRNNVAE_GPU_RUNS=runs))
    assert result.returncode == 2 and says in result.stderr and len(result.stderr.splitlines()) == 1


def _wheel(folder: pathlib.Path, name: str) -> str:
  """A pure-Python wheel of one module, `name`, that sets VALUE = 42."""
  path = folder / f"{name}-0.1-py3-none-any.whl"
  dist = f"{name}-0.1.dist-info"
  files = {f"{name}/__init__.py": "VALUE = 42\n",
           f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n",
           f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
  files[f"{dist}/RECORD"] = "".join(f"{n},,\n" for n in [*files, f"{dist}/RECORD"])
  with zipfile.ZipFile(path, "w") as archive:
    for arcname, text in files.items():
      archive.writestr(arcname, text)
  return path.name


def test_run_installs_only_the_missing_wheels(tmp_path):
  carry = tmp_path / "carry"
  (carry / "caches").mkdir(parents=True)
  (carry / "wheels").mkdir()
  probe = _wheel(carry / "wheels", "hrnnvae_gpu_probe")
  # json imports already, so its (absent) wheel must not even be looked at
  (carry / "wheels" / "modules.txt").write_text(
      f"{probe} hrnnvae_gpu_probe fallback\nabsent-1.0-py3-none-any.whl json required\n")
  out = tmp_path / "out"
  result = _run("launch/gpu_run.sh", 600, out,
                env=_env(HRNNVAE_GPU_CARRY=str(carry), HRNNVAE_GPU_RUN_SETUP_ONLY="1"))
  assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
  assert f"installing {probe}" in result.stdout and "absent" not in result.stdout
  assert (out / "site" / "hrnnvae_gpu_probe" / "__init__.py").is_file()
  probe_import = subprocess.run([sys.executable, "-c", "import hrnnvae_gpu_probe as p; print(p.VALUE)"],
                                env=_env(PYTHONPATH=str(out / "site")), capture_output=True, text=True)
  assert probe_import.stdout.strip() == "42", probe_import.stderr
  assert "jax: " in (out / "logs" / "device.log").read_text()  # what the device check saw


def _write_fake_python(folder: pathlib.Path) -> pathlib.Path:
  """An executable that plays the children gpu_run starts (python -m hrnnvae.X ..., python -c FIT):
  it records each command line in calls.jsonl beside it and acts by the run's name (the workdir's)."""
  path = folder / "fake_python"
  path.write_text(f"#!{sys.executable}\n" + textwrap.dedent("""\
      import json, pathlib, signal, sys, time
      args = sys.argv[1:]
      with open(pathlib.Path(sys.argv[0]).with_name("calls.jsonl"), "a") as calls:
        calls.write(json.dumps(["-c", *args[2:]] if args[0] == "-c" else args) + "\\n")
      flags = dict(a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a)
      if args[0] == "-c":  # the latent-prior fit: EXPORT CACHE MAX_STEPS MAX_WINDOWS SEED
        pathlib.Path(args[2], "latent_prior.npz").write_bytes(b"prior")
      elif args[1] == "hrnnvae.bench":
        pathlib.Path(flags["json"]).write_text("{}")
      elif args[1] == "hrnnvae.eval_main":
        pathlib.Path(flags["out"]).mkdir(parents=True, exist_ok=True)
        pathlib.Path(flags["out"], "report.md").write_text(flags["workdirs"])
      elif args[1] == "hrnnvae.train.main":
        workdir = pathlib.Path(flags["workdir"])
        workdir.mkdir(parents=True, exist_ok=True)
        kind = workdir.name
        if kind == "crashes":
          sys.exit(1)
        stop = []
        if kind == "ignores":
          signal.signal(signal.SIGINT, signal.SIG_IGN)
        elif kind != "slow_start":  # slow_start dies of SIGINT, as a trainer still importing would
          signal.signal(signal.SIGINT, lambda *_: stop.append(1))
        step = 0
        while not stop and not (kind == "finishes" and step == 3):
          step += 1
          if kind != "slow_start":
            with open(workdir / "metrics.jsonl", "a") as metrics:
              metrics.write(json.dumps({"step": step, "valid/best_loss": 1 / step}) + "\\n")
          time.sleep(0.1)
        (workdir / "export").mkdir(exist_ok=True)
        (workdir / "export" / "config.json").write_text(json.dumps({"step": step, "config": {
            "data": {"max_steps": 64}, "train": {"latent_prior_windows": 100}, "seed": 3}}))
        print(f"hrnnvae-train: stopped at step {step} ({'interrupted' if stop else 'max_steps'})")
        sys.exit(130 if stop else 0)
      """))
  path.chmod(0o755)
  return path


def _session(tmp_path, runs=(), the_plan=None, **kwargs) -> tuple[Session, list[str]]:
  out = tmp_path / "out"
  for folder in ("logs", "runs", "state", "bench", "pack"):
    (out / folder).mkdir(parents=True, exist_ok=True)
  messages = []
  the_plan = the_plan or planning.Plan(budget_s=100, bench_s=0, stop_at_s=1, grace_s=2, eval_s=50,
                                       pack_s=5, min_train_s=0)
  kwargs = {"tiny": False, "python": str(_write_fake_python(tmp_path)), "train_flags": ["--config.seed=3"],
            "started": time.time(), "log": messages.append, **kwargs}
  return Session(out, tmp_path / "carry", out / "pack", runs, the_plan, **kwargs), messages


def _calls(path: pathlib.Path) -> list[list[str]]:
  return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def test_plan_deadlines_add_up_within_the_budget():
  for shares in (planning.GPU_SHARES, planning.TINY_SHARES):
    for budget in (300, 540, 900, 3600):
      plan = planning.plan(budget, shares)
      # SIGINT, the grace period until SIGKILL, the evaluation and the packing end with the budget
      assert plan.kill_at_s + plan.eval_s + plan.pack_s == budget == plan.eval_until_s + plan.pack_s
      assert plan.grace_s == shares.grace_s and plan.kill_at_s == plan.stop_at_s + shares.grace_s
      assert plan.stop_at_s >= shares.setup_s + shares.min_train_s
      assert plan.bench_s == budget * shares.bench_pct // 100
      assert plan.eval_s == max(budget * shares.eval_pct // 100, shares.eval_min_s)
  plan = planning.plan(540)  # the README's call: 12% benchmarks, 15% (at least 90 s) evaluation
  assert (plan.bench_s, plan.eval_s, plan.stop_at_s, plan.grace_s, plan.pack_s) == (64, 90, 335, 90, 25)
  assert planning.plan(1000, eval_pct=30).eval_s == 300  # HRNNVAE_GPU_EVAL_PCT
  assert planning.plan(1000, bench_pct=0).bench_s == 0  # HRNNVAE_GPU_BENCH_PCT=0 skips them


def test_plan_refuses_a_budget_too_small():
  with pytest.raises(planning.PlanError,
                     match=r"budget of 60 s is too small: give at least (\d+) s") as error:
    planning.plan(60)
  least = int(re.search(r"at least (\d+) s", str(error.value)).group(1))
  assert planning.plan(least).stop_at_s == planning.GPU_SHARES.setup_s + planning.GPU_SHARES.min_train_s
  with pytest.raises(planning.PlanError):
    planning.plan(least - 1)
  with pytest.raises(planning.PlanError, match="HRNNVAE_GPU_EVAL_PCT=100"):
    planning.plan(600, eval_pct=100)


def test_runs_benchmarks_and_samples():
  assert [run.name for run in planning.select_runs(planning.TINY_RUNS, "")] == [
      "nottingham", "jsb_chorales", "nottingham_lstm_lm"]
  picked = planning.select_runs(planning.GPU_RUNS, "nottingham_lstm_lm,nottingham")
  assert [run.name for run in picked] == ["nottingham", "nottingham_lstm_lm"]  # the list's order
  with pytest.raises(planning.PlanError, match="no such run: nottinghm"):
    planning.select_runs(planning.GPU_RUNS, "nottinghm")
  # every flag given to hrnnvae-bench is one it defines
  defined = set(re.findall(r"DEFINE_\w+\(\s*\"(\w+)\"", (ROOT / "hrnnvae" / "bench.py").read_text()))
  carry = pathlib.Path("/carry")
  for tiny in (True, False):
    for kind in planning.BENCH_KINDS:
      args = planning.bench_args(kind, 100, carry, tiny)
      assert {arg[2:].split("=")[0].split(".")[0] for arg in args} <= defined, args
  assert "--variants= " in planning.bench_args("train", 179, carry, False)  # one variant, two compiles
  assert "--variants= " not in planning.bench_args("train", 180, carry, False)
  assert [planning.eval_samples(s, False) for s in (60, 100, 180, 300)] == [8, 16, 32, 64]
  assert planning.eval_samples(600, True) == 2


def test_timed_jobs_end_as_timeout_would(tmp_path):
  sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
  deaf = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
          "print('ready', flush=True); time.sleep(60)"]
  jobs = {name: processes.Job(processes.spawn(command, tmp_path / f"{name}.log"), time.time(),
                              deadline=time.time() + 0.5)
          for name, command in (("sleeper", sleeper), ("deaf", deaf))}
  while "ready" not in (tmp_path / "deaf.log").read_text():
    time.sleep(0.1)
  ended = {}
  processes.supervise(jobs, lambda name, job: processes.timeout_tick(job, time.time(), False, 0.5),
                      lambda name, job, status: ended.update({name: processes.timed_status(job, status)}),
                      poll_s=0.05)
  assert ended == {"sleeper": (124, "timed_out"), "deaf": (137, "timed_out")}


def test_benchmarks_run_once_and_skip_what_would_time_out(tmp_path):
  session, messages = _session(tmp_path)
  session._bench("train", 30)
  bench = session.out / "bench"
  assert (bench / "bench_train.json").is_file() and not (bench / "bench_train.json.partial").exists()
  (command,) = _calls(tmp_path / "calls.jsonl")
  assert command == ["-m", "hrnnvae.bench", "train", f"--json={bench / 'bench_train.json.partial'}",
                     *planning.bench_args("train", 30, session.carry, False)]
  (bench / "bench_latency.timed_out_s").write_text("40\n")  # an earlier call's timeout
  session._bench("latency", 40)
  session._bench("latency", 9)
  later, _ = _session(tmp_path)  # the next call
  later._bench("train", 30)
  record = packing.summarize(session.out, [], final=True)
  assert [call["bench"] for call in record["calls"]] == [
      {"train": {"rc": 0, "wall_s": 0, "status": "done"}, "latency": {"status": "skipped"}},
      {"train": {"status": "earlier"}}]
  assert record["bench"]["train"]["written"] and not record["bench"]["latency"]["written"]
  assert len(_calls(tmp_path / "calls.jsonl")) == 1  # neither skipped one ran
  assert any("it timed out after 40 s before" in m for m in messages), messages


def test_trainings_stop_at_the_deadline_then_priors_and_evaluation(tmp_path):
  """The signal state machine on fake trainers, then the latent-prior fits and the evaluation."""
  runs = [planning.Run(name, config, "nottingham") for name, config in (
      ("stops", "configs/tiny.py"), ("ignores", "configs/tiny.py"), ("slow_start", "configs/tiny.py"),
      ("finishes", "configs/tiny.py:lstm_lm"), ("crashes", "configs/tiny.py"))]
  session, messages = _session(tmp_path, runs)
  session.train()
  out = session.out
  record = packing.summarize(out, [run.name for run in runs], final=False)
  run = {name: record["calls"][0]["run"][name] for name in record["runs"]}
  # SIGINT at the deadline to a run that trained: a clean stop, exit 130
  assert run["stops"]["status"] == "interrupted" and run["stops"]["rc"] == 130
  assert run["stops"]["sigint_at_s"] == 1
  assert record["runs"]["stops"]["last_stop"]["reason"] == "interrupted"
  # SIGKILL a grace period (2 s) after the deadline, to one that ignores the SIGINT
  assert (run["ignores"]["status"], run["ignores"]["rc"], run["ignores"]["sigint_at_s"]) == ("killed", 137, 1)
  assert any("train ignores: still running 2 s after the deadline: SIGKILL" in m for m in messages)
  # one still starting up (no new metrics) gets SIGINT only half the grace period later
  assert run["slow_start"]["sigint_at_s"] == 2 and run["slow_start"]["status"] == "interrupted_at_start"
  assert run["finishes"]["status"] == "done" and (out / "state" / "done_finishes").is_file()
  assert run["crashes"]["status"] == "failed" and session.failed == ["train:crashes"]
  trains = [c for c in _calls(tmp_path / "calls.jsonl") if c[1] == "hrnnvae.train.main"]
  assert [c[2:5] for c in trains if "stops" in c[4]] == [[
      "--config=configs/tiny.py", f"--config.data.cache_dir={session.carry / 'caches' / 'nottingham'}",
      f"--workdir={out / 'runs' / 'stops'}"]]
  assert all(c[-1] == "--config.seed=3" for c in trains)  # HRNNVAE_GPU_TRAIN_FLAGS

  session.evaluate()
  fits = [c for c in _calls(tmp_path / "calls.jsonl") if c[0] == "-c"]
  # stops' export only: lstm_lm has no latent space; the fit uses the run's crop, windows and seed
  assert fits == [["-c", str(out / "runs" / "stops" / "export"),
                   str(session.carry / "caches" / "nottingham"), "64", "100", "3"]]
  evals = [c for c in _calls(tmp_path / "calls.jsonl") if c[1] == "hrnnvae.eval_main"]
  assert len(evals) == 1 and f"--out={out / 'eval_nottingham'}" in evals[0]
  assert (out / "eval_nottingham" / "report.md").read_text() == ",".join(
      str(out / "runs" / name) for name in ("stops", "finishes"))
  files = session.pack(final=True)
  summary = json.loads((out / "pack" / "summary.json").read_text())
  assert summary["eval"]["nottingham"]["status"] == "done"
  assert summary["eval"]["nottingham"]["num_samples"] == 8
  assert summary["eval"]["jsb_chorales"] == {"status": "no_models"}
  assert summary["pack"]["exports"] == ["stops", "finishes"]
  assert [f.name for f in files] == ["logs.tar.gz", "eval.tar.gz", "exports.tar.gz", "summary.json"]

  later, messages = _session(tmp_path, runs[3:4])  # a second call: the finished run is skipped
  later.train()
  assert later.call == 2 and any("train finishes: finished in an earlier call" in m for m in messages)


def _random_file(path: pathlib.Path, size: int) -> bytes:
  path.parent.mkdir(parents=True, exist_ok=True)
  data = os.urandom(size)  # incompressible: the archives are as large as this
  path.write_bytes(data)
  return data


def _out_dir(tmp_path: pathlib.Path) -> tuple[pathlib.Path, dict]:
  """An OUT_DIR after two calls: runs a and b exported (5 kB each), c not; a report with a picture."""
  out = tmp_path / "out"
  (out / "state").mkdir(parents=True)
  (out / "state" / "call_1.tsv").write_text(
      "info\t-\tbudget_s\t540\ninfo\t-\ttiny\t0\nrun\ta\trc\t130\nrun\ta\tstatus\tinterrupted\n"
      "bench\ttrain\tstatus\tdone\neval\tnottingham\tstatus\tdone\ndevice\t-\tjax\tgpu [CudaDevice(id=0)]\n")
  (out / "state" / "call_2.tsv").write_text("info\t-\tbudget_s\t300\nrun\ta\tstatus\tearlier\n")
  (out / "logs").mkdir()
  (out / "logs" / "a.log").write_text("hrnnvae-train: stopped at step 7 (interrupted)\n")
  (out / "logs" / "device.log").write_text("jax: gpu\n")
  data = {}
  for name in ("a", "b"):
    data[name] = _random_file(out / "runs" / name / "export" / "params.msgpack", 5000)
    (out / "runs" / name / "export" / "config.json").write_text(json.dumps({"step": 5}))
  (out / "runs" / "a" / "metrics.jsonl").write_text(
      '{"step": 5, "valid/best_loss": 2.0}\n{"step": 7, "valid/best_loss": NaN}\nnot json\n')
  _random_file(out / "runs" / "a" / "checkpoints" / "big", 20000)  # stays behind
  (out / "runs" / "c").mkdir()
  (out / "bench").mkdir()
  (out / "bench" / "bench_train.json").write_text('{"steps_per_s": 3}')
  (out / "eval_nottingham").mkdir()
  (out / "eval_nottingham" / "report.md").write_text("# report\n")
  _random_file(out / "eval_nottingham" / "piano_roll.png", 6000)
  return out, data


def test_pack_keeps_to_the_limits_and_splits_the_exports(tmp_path):
  out, data = _out_dir(tmp_path)
  pack = tmp_path / "pack"
  pack.mkdir()
  (pack / "exports.tar.gz.part07").write_text("from an earlier pack")
  summary = packing.summarize(out, ["a", "b", "c"], final=True)
  messages = []
  files = packing.pack(out, pack, ["a", "b", "c"], summary, max_files=8, part_bytes=4000, log=messages.append)
  assert sorted(files) == sorted(pack.iterdir()) and len(files) <= 8
  assert [f.name for f in files] == ["bench_train.json", "logs.tar.gz", "eval.tar.gz", *(
      f"exports.tar.gz.part0{index}" for index in range(3)), "summary.json"]
  assert all(f.stat().st_size <= 4000 for f in files[:-1])
  joined = tmp_path / "exports.tar.gz"  # cat exports.tar.gz.part* > exports.tar.gz
  joined.write_bytes(b"".join(f.read_bytes() for f in sorted(pack.glob("exports.tar.gz.part*"))))
  with tarfile.open(joined) as archive:
    names = archive.getnames()
    assert archive.extractfile("runs/a/export/params.msgpack").read() == data["a"]
    assert archive.extractfile("runs/b/export/params.msgpack").read() == data["b"]
  assert "runs/a/metrics.jsonl" in names and not any("checkpoints" in n or "runs/c" in n for n in names)
  with tarfile.open(pack / "eval.tar.gz") as archive:  # the picture made it too big
    assert archive.getnames() == ["eval_nottingham", "eval_nottingham/report.md"]

  written = json.loads((pack / "summary.json").read_text())
  assert written == json.loads((out / "summary.json").read_text())
  assert written["final"] is True and [call["call"] for call in written["calls"]] == [1, 2]
  assert written["calls"][0]["info"] == {"budget_s": 540, "tiny": 0}  # numbers parsed
  assert written["calls"][0]["device"] == {"jax": "gpu [CudaDevice(id=0)]"}
  assert written["runs"]["a"] == {
      "step": 7, "best_valid_loss": None, "export_step": 5, "last_stop": {"step": 7, "reason": "interrupted"},
      "status": "earlier", "calls": [{"call": 1, "rc": 130, "status": "interrupted"},
                                     {"call": 2, "status": "earlier"}]}
  assert written["runs"]["c"] == {"step": None, "best_valid_loss": None, "export_step": None,
                                  "last_stop": None, "status": None, "calls": []}
  assert written["eval"] == {}  # the last call's
  assert written["bench"] == {"train": {"written": True, "status": "done"}, "latency": {"written": False}}
  assert written["pack"]["files"] == {**{f.name: f.stat().st_size for f in files[:-1]},
                                      "summary.json": "this file"}
  assert written["pack"]["exports"] == ["a", "b"]
  assert written["pack"]["left_out"] == ["eval.tar.gz: the pictures (*.png), to stay under 1 MB"]
  assert "cat exports.tar.gz.part* | tar xz" in written["pack"]["unpack"]
  assert messages[-1].startswith(f"packed 7 files into {pack}")


def test_pack_drops_the_last_exports_that_do_not_fit(tmp_path):
  out, _ = _out_dir(tmp_path)
  pack = tmp_path / "pack"
  pack.mkdir()
  summary = packing.summarize(out, ["a", "b"], final=False)
  # 6 files: 3 small ones and summary.json leave 2 parts, room for a's export alone
  files = packing.pack(out, pack, ["a", "b"], summary, max_files=6, part_bytes=4000, log=lambda _: None)
  assert [f.name for f in files[3:]] == ["exports.tar.gz.part00", "exports.tar.gz.part01", "summary.json"]
  assert summary["pack"]["exports"] == ["a"]
  assert summary["pack"]["left_out"][-1] == "the export of b (no room: 6 files of 1 MB)"
  # a small export stays whole; the total bounds them as well
  files = packing.pack(out, pack, ["a", "b"], summary, part_bytes=10 ** 5, max_total=15000, summary_room=1000,
                       log=lambda _: None)
  assert [f.name for f in files] == ["bench_train.json", "logs.tar.gz", "eval.tar.gz", "exports.tar.gz",
                                     "summary.json"]
  assert summary["pack"]["exports"] == ["a"] and sorted(pack.iterdir()) == sorted(files)


def _gpu_run(budget: int, out: pathlib.Path, env: dict) -> subprocess.Popen:
  return subprocess.Popen(["bash", "launch/gpu_run.sh", str(budget), str(out)], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _packed(out: pathlib.Path, process: subprocess.Popen, returncode: int, timeout: int) -> dict:
  output, _ = process.communicate(timeout=timeout)
  print(output)
  assert process.returncode == returncode, output[-4000:]
  files = sorted((out / "pack").iterdir())
  # what comes back from the device machine: at most 8 files of at most 16 MB
  assert 1 <= len(files) <= 8 and all(f.is_file() and f.stat().st_size <= 16 * MB for f in files)
  return json.loads((out / "pack" / "summary.json").read_text())


@pytest.mark.slow
def test_tiny_end_to_end_then_resume_and_stop(datasets_root, tmp_path):
  carry = tmp_path / "carry"
  result = _run("launch/gpu_prepare.sh", carry, "--limit=40", "--no-wheels", f"--datasets={datasets_root}")
  assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
  for dataset in ("nottingham", "jsb_chorales"):  # only what train and eval read
    assert sorted(p.name for p in (carry / "caches" / dataset).iterdir()) == [
        "examples.npz", "manifest.json"]

  # One run and no benchmarks (test_benchmarks_* covers them): the same steps in a third of the
  # time. The training's deadline comes as early as the tiny plan allows (35 s: its setup and
  # minimum training, planning.TINY_SHARES); the evaluation, over a minute on a busy CPU, gets the
  # rest (at least 150 s), and the call ends when it does.
  env = _env(HRNNVAE_GPU_RUN_TINY="1", HRNNVAE_GPU_CARRY=str(carry), HRNNVAE_GPU_RUNS="nottingham",
             HRNNVAE_GPU_BENCH_PCT="0", HRNNVAE_GPU_EVAL_PCT="60")
  out = tmp_path / "out"
  first = _packed(out, _gpu_run(250, out, env), 0, timeout=250 + 120)
  pack = out / "pack"
  assert set(first["runs"]) == {"nottingham"} and first["final"] is True
  assert first["runs"]["nottingham"]["status"] == "interrupted", first["runs"]  # by the deadline's SIGINT
  assert set(first["calls"][0]["plan"]) == {"bench_s", "train_until_s", "grace_s", "eval_s", "pack_s"}
  assert first["pack"]["exports"] == ["nottingham"], first
  unpacked = tmp_path / "unpacked"
  unpacked.mkdir()
  with open(unpacked / "exports.tar.gz", "wb") as whole:  # one file, or parts to join
    for part in sorted(pack.glob("exports.tar.gz*")):
      whole.write(part.read_bytes())
  with tarfile.open(unpacked / "exports.tar.gz") as archive:
    archive.extractall(unpacked, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
  workdir = unpacked / "runs" / "nottingham"
  assert (workdir / "metrics.jsonl").is_file()
  # The deadline's SIGINT skips the trainer's own latent-prior fit: gpu_run fits it before eval.
  assert (workdir / "export" / "latent_prior.npz").is_file()
  sampled = subprocess.run(  # the packed export samples
      [sys.executable, "-m", "hrnnvae.sample_main", f"--workdir={workdir}", "--bars=1", "--noaudio",
       f"--output_dir={tmp_path / 'samples'}"], capture_output=True, text=True, timeout=300)
  assert sampled.returncode == 0, sampled.stderr[-2000:]
  with tarfile.open(pack / "eval.tar.gz") as archive:
    assert "eval_nottingham/report.md" in archive.getnames(), first["eval"]
  with tarfile.open(pack / "logs.tar.gz") as archive:
    assert {"logs/nottingham.log", "logs/device.log"} <= set(archive.getnames())

  # The second call resumes from the checkpoint; a TERM once it has trained stops it the clean way
  # (SIGINT to the training), skips the evaluation and still packs.
  metrics = out / "runs" / "nottingham" / "metrics.jsonl"
  lines = len(metrics.read_text().splitlines())
  second = _gpu_run(250, out, env)
  deadline = time.time() + 250
  while len(metrics.read_text().splitlines()) <= lines and second.poll() is None and time.time() < deadline:
    time.sleep(0.5)
  second.send_signal(signal.SIGTERM)
  second = _packed(out, second, 130, timeout=260)
  assert [call["call"] for call in second["calls"]] == [1, 2] and second["eval"] == {}
  run = second["runs"]["nottingham"]
  assert run["status"] == "interrupted" and run["step"] > first["runs"]["nottingham"]["step"], run
