"""Evaluation metrics, each defined in code with its formula and units (melody.py: one melody;
corpus.py: sets of melodies against a reference set)."""
