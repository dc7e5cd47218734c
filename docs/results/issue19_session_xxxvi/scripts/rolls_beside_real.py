# Session (xxxvi): the two arms' happy 32-bar rolls (seed 0, the shipped sampling) stacked under
# two real 32-bar training spans the judge calls happy, in one picture. Since (xxxvii) the
# general script (its arms as arguments) draws it, with this session's two folders.
#   PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxxvi/scripts/rolls_beside_real.py CACHE OUT.png
import pathlib
import runpy
import sys

here = pathlib.Path(__file__).parent.parent
sys.argv = [sys.argv[0], sys.argv[1], sys.argv[2],
            f"{here / 'rolls_emo3'}:emo3 arm", f"{here / 'rolls_rests'}:rests arm"]
runpy.run_path(str(here.parent / "issue19_session_xxxvii" / "scripts" / "rolls_beside_real.py"),
               run_name="__main__")
