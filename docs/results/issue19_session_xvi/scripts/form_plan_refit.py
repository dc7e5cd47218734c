"""Session (xvi), the AABB form-plan prototype with its own critic: on a copy of the shipped run's
export, the sampling set to the plan (form_plan_prototype.py's sentinel correlation, its Sampler.prior
wrapper in force) and the realism critic fitted again on such samples, as the recipe would.
Then run form_plan_prototype.py C --workdir=COPY ... to sweep.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xvi/scripts/form_plan_refit.py \
      C RUN CACHE COPY
"""
import json
import pathlib
import shutil
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import form_plan_prototype  # noqa: E402,F401 - wraps Sampler.prior; pops C from argv

from hrnnvae import post_training  # noqa: E402

run, cache, copy = sys.argv[1:4]
shutil.rmtree(copy, ignore_errors=True)
shutil.copytree(pathlib.Path(run) / "export", pathlib.Path(copy) / "export")
export = pathlib.Path(copy) / "export"
post_training.set_sampling(export, {"section_correlation": form_plan_prototype.SENTINEL},
                           chosen_by="session (xvi) form-plan prototype")
report = post_training.fit_critic(export, cache, per_emotion=1024, steps=3000, seed=0, bars=16,
                                  input_kind="key_relative", min_real_windows=0, repetition=True,
                                  log=lambda message: print(message, flush=True))
print(json.dumps(report["held_out_accuracy"]))
