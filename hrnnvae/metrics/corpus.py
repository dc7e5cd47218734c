"""Set-level metrics: BLEU-4 of generated melodies against a reference split, and MGEval-style
comparison of a feature's distribution in two sets (kernel density overlap and KL divergence).
"""

from __future__ import annotations

import collections
import math

import numpy as np

from hrnnvae.data import events as events_lib

_SMOOTHING = 0.1  # added to a zero clipped n-gram count (Chen & Cherry's method 1)


def pitch_sequence(events) -> tuple[int, ...]:
  """The melody as its sequence of note pitches (the 'words' that BLEU counts)."""
  return tuple(pitch for _, _, pitch in events_lib.events_to_notes(np.asarray(events)))


def _ngrams(sequence, n):
  return collections.Counter(tuple(sequence[i:i + n]) for i in range(len(sequence) - n + 1))


def corpus_bleu(hypotheses, references, max_n: int = 4) -> float:
  """Corpus BLEU (Papineni et al., 2002) of pitch sequences, every reference shared by every
  hypothesis: BP * exp(mean_n log p_n), p_n = sum clipped n-gram counts / sum n-gram counts,
  a count clipped by its largest count in any one reference, BP = min(1, exp(1 - r / c)) with r
  the summed closest reference lengths and c the summed hypothesis lengths."""
  hypotheses = [pitch_sequence(h) for h in hypotheses]
  references = [pitch_sequence(r) for r in references]
  max_reference_counts = []
  for n in range(1, max_n + 1):
    most = collections.Counter()
    for reference in references:
      for gram, count in _ngrams(reference, n).items():
        most[gram] = max(most[gram], count)
    max_reference_counts.append(most)
  reference_lengths = np.array([len(r) for r in references])
  log_precisions = []
  for n in range(1, max_n + 1):
    clipped = total = 0
    for hypothesis in hypotheses:
      counts = _ngrams(hypothesis, n)
      clipped += sum(min(count, max_reference_counts[n - 1][gram]) for gram, count in counts.items())
      total += sum(counts.values())
    if total == 0:
      return 0.0
    log_precisions.append(math.log(max(clipped, _SMOOTHING) / total))
  hypothesis_length = sum(len(h) for h in hypotheses)
  closest = sum(int(reference_lengths[np.argmin(np.abs(reference_lengths - len(h)))])
                for h in hypotheses)
  brevity = min(1.0, math.exp(1 - closest / max(hypothesis_length, 1)))
  return brevity * math.exp(sum(log_precisions) / max_n)


def _density(values, grid):
  """Gaussian kernel density on `grid`, Silverman's bandwidth (floored so constant sets work)."""
  values = np.asarray(values, float)
  spread = np.std(values)
  bandwidth = max(1.06 * spread * len(values) ** (-0.2), 1e-3 * max(np.abs(values).max(), 1.0))
  z = (grid[:, None] - values[None, :]) / bandwidth
  return np.exp(-0.5 * z ** 2).sum(axis=1) / (len(values) * bandwidth * math.sqrt(2 * math.pi))


def distribution_comparison(generated, reference, grid_points: int = 2048) -> dict:
  """MGEval-style: overlap area = integral of min(p_gen, p_ref) (0..1, 1 = same distribution)
  and KL(p_ref || p_gen) in nats, of one feature's values in the two sets."""
  generated, reference = np.asarray(generated, float), np.asarray(reference, float)
  low = min(generated.min(), reference.min())
  high = max(generated.max(), reference.max())
  margin = max(high - low, 1.0)
  grid = np.linspace(low - margin, high + margin, grid_points)
  step = grid[1] - grid[0]
  p_generated, p_reference = _density(generated, grid), _density(reference, grid)
  overlap = float(np.minimum(p_generated, p_reference).sum() * step)
  tiny = 1e-12
  kl = float((p_reference * np.log((p_reference + tiny) / (p_generated + tiny))).sum() * step)
  return {"overlap": min(overlap, 1.0), "kl": max(kl, 0.0)}
