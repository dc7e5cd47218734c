"""The GPU session's prepared command, `python -m hrnnvae.gpu_run BUDGET_SECONDS OUT_DIR` (__main__.py
says what it does): planning.py plans the budget and lists the runs, processes.py starts, times and
signals the children, session.py is one call (benchmarks, trainings, latent priors, evaluation) and
packing.py writes summary.json and the pack."""
