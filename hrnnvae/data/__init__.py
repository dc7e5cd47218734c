"""Datasets -> NoteSequences -> melody events -> the prepared cache that training reads."""

import warnings

# note-seq imports pydub, which warns at import that ffmpeg is missing; hrnnvae never uses it.
warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)
