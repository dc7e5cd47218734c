"""The evaluation harness behind hrnnvae-eval: scoring.py measures a model and the test split,
report.py writes the tables and pictures, harness.py runs both over a list of models."""
