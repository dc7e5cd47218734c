import sys, numpy as np
d = np.load(sys.argv[1]); req = d["req"]
keeps = sorted({k[1:] for k in d.files if k.startswith("J")}, key=float)
J = np.concatenate([d["J"+k] for k in keeps]); P = np.concatenate([d["P"+k] for k in keeps]); M = np.concatenate([d["M"+k] for k in keeps])
keepcol = np.concatenate([[float(k)]*len(d["J"+k]) for k in keeps])
K = len(d["J"+keeps[0]])
E_real = d["E_real"]; own = d["own"]
print("E on real (opening windows) agrees with label:", (E_real.argmax(1) == own[::3]).mean())
def pick(mask_cands, thresh):
  # among candidates with P>=thresh, max kept; else max P
  sel = []
  for i in range(len(req)):
    c = np.where(mask_cands)[0]
    p, m = P[c, i], M[c, i]
    ok = p >= thresh
    j = c[np.argmax(np.where(ok, m, -1))] if ok.any() else c[np.argmax(p)]
    sel.append(j)
  sel = np.array(sel); idx = np.arange(len(req))
  return (J[sel, idx] == req).mean(), M[sel, idx].mean(), (P[sel, idx] >= thresh).mean()
for ks in [keeps, keeps[1:], keeps[2:], [keeps[1]], [keeps[2]], [keeps[3]] if len(keeps) > 3 else []]:
  if not ks: continue
  for kk in [1, 4, K]:
    mask = np.isin(keepcol, [float(k) for k in ks]) & (np.tile(np.arange(K), len(keeps)) < kk)
    for th in [0.5, 0.7, 0.9]:
      j, m, ok = pick(mask, th)
      print(f"keeps {','.join(ks):10s} K {kk} thr {th}: judge {j:.3f} kept {m:.3f} accepted {ok:.2f}")
