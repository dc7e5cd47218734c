"""The harness's prior samples from two models are bit-equal: argv model_a model_b [bars]
(each a run, export or shipped name). 64 per emotion, seed 0, each model's own settings."""
import sys, numpy as np
from hrnnvae import pretrained
a, b = pretrained.load_model(sys.argv[1]), pretrained.load_model(sys.argv[2])
bars = int(sys.argv[3]) if len(sys.argv) > 3 else 16
emotions = [e for e in range(4) for _ in range(64)]
for name in ("temperature", "top_p", "candidates", "attention_bars", "repeat_penalty"):
  assert getattr(a, name) == getattr(b, name), name
ma, mb = a.sample(emotions, bars, seed=0), b.sample(emotions, bars, seed=0)
same = [np.array_equal(x.events, y.events) for x, y in zip(ma, mb)]
print(f"{sum(same)} of {len(same)} prior samples ({bars} bars) bit-equal; adapter widths "
      f"{a.hp.bar_adapter_dim} / {b.hp.bar_adapter_dim}")
