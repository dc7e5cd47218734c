"""hrnnvae: a hierarchical tanh-RNN VAE with attention that composes emotion-conditioned melodies."""

import warnings

# pydub (which note-seq imports) warns at import time when ffmpeg is absent. hrnnvae renders WAV
# without ffmpeg, so the warning only confuses: filter exactly that message, nothing else.
warnings.filterwarnings("ignore", message="Couldn't find ffmpeg or avconv", category=RuntimeWarning)

__version__ = "0.1.0"
