"""Where each step sits in the music: bar and position features, and the bar grid.

A melody of T steps with `steps_per_bar` S_b steps a bar (8 to 24 on the 16th grid) is laid out
on a bar grid [N, S]: row n holds bar n, column s its s-th step; cells past the bar's end
(s >= S_b) or past the melody's end are empty. Every model that runs an RNN inside bars (the
bar-reset decoder, the bar encoder) runs it on this grid, all bars of a batch in parallel, so
the sequential depth is S (plus N at bar rate), not T.

Position features (Magenta's Lookback RNN gives its RNN the same facts as a binary counter):
  one-hot step in the bar (MAX_STEPS_PER_BAR), one-hot step in the quarter note (4: the beat
  phase on the 16th grid), one-hot bar in the 4-bar phrase (4), and whether the bar is in the
  second half of an 8-bar period (1). POSITION_DIM values in all.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

MAX_STEPS_PER_BAR = 32  # position one-hots cover bars up to 8/4 on the 16th grid
STEPS_PER_QUARTER = 4
PHRASE_BARS = 4
POSITION_DIM = MAX_STEPS_PER_BAR + STEPS_PER_QUARTER + PHRASE_BARS + 1


def position_features(step_in_bar, bar_index, dtype=jnp.float32):
  """[..., POSITION_DIM] from integer arrays of the same shape."""
  return jnp.concatenate([
      jax.nn.one_hot(jnp.minimum(step_in_bar, MAX_STEPS_PER_BAR - 1), MAX_STEPS_PER_BAR,
                     dtype=dtype),
      jax.nn.one_hot(step_in_bar % STEPS_PER_QUARTER, STEPS_PER_QUARTER, dtype=dtype),
      jax.nn.one_hot(bar_index % PHRASE_BARS, PHRASE_BARS, dtype=dtype),
      ((bar_index // PHRASE_BARS) % 2 == 1).astype(dtype)[..., None]], axis=-1)


def time_positions(steps_per_bar_B, num_steps: int):
  """(step in bar [B, T], bar index [B, T]) of every step of a melody."""
  t_T = jnp.arange(num_steps)
  return t_T[None, :] % steps_per_bar_B[:, None], t_T[None, :] // steps_per_bar_B[:, None]


def grid_shape(num_steps: int, min_steps_per_bar: int, max_steps_per_bar: int) -> tuple[int, int]:
  """(N, S): a grid that holds any melody of num_steps steps whose bars have between
  min_steps_per_bar and max_steps_per_bar steps (always safe; the trainer, which knows its
  windows' bar count and bucket, passes a tighter one)."""
  return math.ceil(num_steps / min_steps_per_bar), max_steps_per_bar


def grid_time_index(steps_per_bar_B, grid: tuple[int, int]):
  """Time step [B, N, S] of each grid cell (n * S_b + s) and whether the cell is inside its bar."""
  bars, steps = grid
  n_N1, s_1S = jnp.arange(bars)[:, None], jnp.arange(steps)[None, :]
  spb = steps_per_bar_B[:, None, None]
  return n_N1[None] * spb + s_1S[None], jnp.broadcast_to(s_1S[None] < spb, (len(steps_per_bar_B),
                                                                            bars, steps))


def to_grid(values_BxTx, steps_per_bar_B, lengths_B, grid: tuple[int, int]):
  """(values laid on the grid [B, N, S, ...], real cells [B, N, S]); empty cells hold values[0]."""
  time_BxNxS, in_bar = grid_time_index(steps_per_bar_B, grid)
  real = in_bar & (time_BxNxS < lengths_B[:, None, None])
  index = jnp.where(real, time_BxNxS, 0)
  batch = values_BxTx.shape[0]
  flat = index.reshape(batch, -1)
  gathered = jnp.take_along_axis(values_BxTx, flat.reshape(flat.shape + (1,) * (values_BxTx.ndim - 2)),
                                 axis=1)
  return gathered.reshape((batch,) + grid + values_BxTx.shape[2:]), real


def from_grid(values_BxNxSx, steps_per_bar_B, num_steps: int):
  """Back to time order [B, T, ...]: step t reads cell (t // S_b, t % S_b); steps past the grid
  read cell (0, 0) (they are past every melody's length)."""
  batch, bars, steps = values_BxNxSx.shape[:3]
  step_in_bar, bar = time_positions(steps_per_bar_B, num_steps)
  inside = bar < bars
  cell = jnp.where(inside, bar * steps + step_in_bar, 0)
  flat = values_BxNxSx.reshape((batch, bars * steps) + values_BxNxSx.shape[3:])
  return jnp.take_along_axis(flat, cell.reshape(cell.shape + (1,) * (flat.ndim - 2)), axis=1)


BAR_FEATURE_DIM = PHRASE_BARS + 1


def bar_features(bar_index, dtype=jnp.float32):
  """[..., BAR_FEATURE_DIM]: the bar in its 4-bar phrase and its 8-bar period (the conductor's input)."""
  return position_features(jnp.zeros_like(bar_index), bar_index, dtype)[
      ..., MAX_STEPS_PER_BAR + STEPS_PER_QUARTER:]


LOOKBACK_BARS = (1, 2)  # events 1 and 2 bars back (Lookback RNN's): model.lookback_bars' default


def lookback_dim(lookback_bars=LOOKBACK_BARS) -> int:
  """L: the sounding pitch, then one event per bar distance."""
  return 1 + len(lookback_bars)


def lookback_events(events_BxT, steps_per_bar_B, first_pitch_event: int, none_token: int,
                    lookback_bars=LOOKBACK_BARS):
  """What the decoder knows at each step besides the previous event, as ids [B, T, L]:

    [..., 0]: the last pitch started before step t (it survives holds, note-offs and bar lines);
    [..., i]: the event at step t - k * steps_per_bar (the same place k bars back), k the i-th
              of lookback_bars: (1, 2) is Magenta's Lookback RNN; (4, 8) the same place in the
              previous 4-bar phrase and 8-bar period, where real tunes repeat (AABB).
  Each is `none_token` where there is none yet. Only steps before t are read, so the decoder
  stays causal.
  """
  batch, num_steps = events_BxT.shape
  t_1xT = jnp.arange(num_steps)[None, :]
  onset_step = jnp.where(events_BxT >= first_pitch_event, t_1xT, -1)
  last_onset = jax.lax.cummax(onset_step, axis=1)
  before_t = jnp.concatenate([jnp.full((batch, 1), -1, last_onset.dtype), last_onset[:, :-1]], 1)
  sources = [before_t] + [t_1xT - k * steps_per_bar_B[:, None] for k in lookback_bars]
  columns = [jnp.where(step >= 0, jnp.take_along_axis(events_BxT, jnp.maximum(step, 0), axis=1),
                       none_token) for step in sources]
  return jnp.stack(columns, axis=-1).astype(jnp.int32)


def lookback_step(history_BxT, sounding_B, t, steps_per_bar_B, none_token: int,
                  lookback_bars=LOOKBACK_BARS):
  """One step of lookback_events for a free-running decode: history holds the events before t
  (none_token after), sounding the last pitch started before t; returns ids [B, L]."""
  columns = [sounding_B]
  for k in lookback_bars:
    step = t - k * steps_per_bar_B
    past = jnp.take_along_axis(history_BxT, jnp.maximum(step, 0)[:, None], axis=1)[:, 0]
    columns.append(jnp.where(step >= 0, past, none_token))
  return jnp.stack(columns, axis=-1).astype(jnp.int32)
