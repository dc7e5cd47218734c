"""What travels to the GPU machine, and the limits on it, counted once for launch/gpu_prepare.sh and
the tests: the working tree (tracked files, and untracked ones git does not ignore) goes with every
call, beside the carry that gpu_prepare fills (caches and wheels, about 5 MiB).

  python -m hrnnvae.gpu_run.travel CARRY_FOLDER     (run in the checkout; gpu_prepare.sh calls it)
prints both sizes and the `carry` path to name, and exits 1 when together they pass PREPARE_LIMIT.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

MIB = 2 ** 20
TRAVEL_LIMIT = 64 * MIB   # what the device tool carries at most: the tree and the carry together
PREPARE_LIMIT = 48 * MIB  # gpu_prepare refuses above this: room for the outputs a resumed call adds
TREE_LIMIT = 40 * MIB     # the tree's own share, so the carry keeps room under PREPARE_LIMIT


def working_tree_sizes(root: pathlib.Path) -> dict[str, int]:
  """Bytes of every file that travels from the checkout at `root`, by its path in the repository."""
  names = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=root,
                         capture_output=True, check=True).stdout.decode().split("\0")
  return {name: (root / name).stat().st_size for name in names if name and (root / name).is_file()}


def folder_bytes(folder: pathlib.Path) -> int:
  return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def largest(sizes: dict[str, int], count: int = 8) -> list[tuple[str, int]]:
  return sorted(sizes.items(), key=lambda item: -item[1])[:count]


def check(root: pathlib.Path, carry_folder: pathlib.Path) -> int:
  """gpu_prepare's last step: report, refuse over PREPARE_LIMIT (exit status 1), name the carry."""
  out = carry_folder.resolve()
  carry = folder_bytes(out)
  sizes = working_tree_sizes(root)
  tree = sum(sizes.values())
  print(f"gpu_prepare: {out} holds {carry / MIB:.1f} MiB; the working tree {tree / MIB:.1f} MiB; "
        f"together {(carry + tree) / MIB:.1f} of the {TRAVEL_LIMIT // MIB} MiB that travel")
  if carry + tree > PREPARE_LIMIT:
    print(f"gpu_prepare: over {PREPARE_LIMIT // MIB} MiB: too close to the {TRAVEL_LIMIT // MIB} MiB "
          f"limit; trim the tree or the caches (the tree's largest: {largest(sizes, 4)})",
          file=sys.stderr)
    return 1
  try:
    rel = out.relative_to(root.resolve())
  except ValueError:
    print("gpu_prepare: that folder is outside the checkout: for a device run, prepare it under runs/")
    return 0
  ignored = subprocess.run(["git", "check-ignore", "-q", str(rel)], cwd=root).returncode == 0
  if not ignored:
    print(f"gpu_prepare: warning: {rel} is not git-ignored, so it travels (and counts) every call")
  print(f'gpu_prepare: carry: ["{rel}"]   then run there: launch/gpu_run.sh BUDGET OUT_DIR '
        f"(HRNNVAE_GPU_CARRY={rel}, the default when it is runs/gpu_carry)")
  return 0


if __name__ == "__main__":
  if len(sys.argv) != 2:
    sys.exit("usage: python -m hrnnvae.gpu_run.travel CARRY_FOLDER  (run in the checkout)")
  sys.exit(check(pathlib.Path.cwd(), pathlib.Path(sys.argv[1])))
