"""Flax modules of the hierarchical RNN-VAE: cells, encoder, attention, decoder, critics.

Shape legend used in names throughout: B batch, T steps, H hidden units, Z latent units,
A attention units, W attention cache slots, V event classes (90), N bars, C context units.
"""
