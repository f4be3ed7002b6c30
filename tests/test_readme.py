"""README.md is what nbs/index.ipynb renders to, and it names the two commands of the contract."""
import subprocess
import sys

from conftest import ROOT


def test_readme_in_step_with_index():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "readme.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_readme_names_the_two_commands():
    text = (ROOT / "README.md").read_text()
    assert "make reproduce" in text and "make test" in text
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
