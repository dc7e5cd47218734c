"""Session (xviii): a form plan with its own critic, as (xvi)'s form_plan_refit.py for any plan:
on a copy of the shipped run's export, the sampling set to the plan ((xvii)'s form_plan.py: its
sentinel correlation, its Sampler.prior wrapper in force) and the realism critic fitted again on
such samples as the JSB recipe fits it. Then sweep with (xvii)'s form_plan.py PLAN C
--workdir=COPY ... (jsb_form_screen.sh with MODEL_FLAG).
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xviii/scripts/form_plan_refit.py \
      PLAN C RUN CACHE COPY
"""
import json
import pathlib
import shutil
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parents[2] / "issue19_session_xvii" / "scripts"))
import form_plan  # noqa: E402 - (xvii)'s: wraps Sampler.prior; pops PLAN and C from argv

from hrnnvae import post_training  # noqa: E402

run, cache, copy = sys.argv[1:4]
shutil.rmtree(copy, ignore_errors=True)
shutil.copytree(pathlib.Path(run) / "export", pathlib.Path(copy) / "export")
export = pathlib.Path(copy) / "export"
post_training.set_sampling(export, {"section_correlation": form_plan.SENTINEL},
                           chosen_by=f"session (xviii) form plan {form_plan.PLAN} at "
                                     f"{form_plan.PLAN_CORRELATION}")
report = post_training.fit_critic(export, cache, per_emotion=1024, steps=3000, seed=0, bars=16,
                                  input_kind="key_relative", min_real_windows=0, repetition=True,
                                  log=lambda message: print(message, flush=True))
print(json.dumps(report["held_out_accuracy"]))
