"""Exported modules have no undefined names (an import left in a non-exported notebook cell shows up
only when the module runs outside its notebook)."""
import subprocess
import sys

from conftest import ROOT


def test_no_undefined_names():
    r = subprocess.run([sys.executable, "-m", "pyflakes", str(ROOT / "coldstart_nb")], capture_output=True, text=True)
    bad = [l for l in r.stdout.splitlines() if "undefined name" in l or "syntax" in l.lower()]
    assert not bad, "\n".join(bad)
