"""hrnnvae: a hierarchical tanh-RNN VAE with attention that composes emotion-conditioned melodies."""

__version__ = "0.1.0"
