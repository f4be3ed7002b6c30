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


def test_readme_story_matches_the_committed_results():
    "The numbers the README's story quotes are the committed run's (a new run that changes them must change the story)."
    import json
    text = " ".join((ROOT / "README.md").read_text().split())
    res = lambda stage: json.loads((ROOT / "reports" / "results" / f"{stage}_default.json").read_text())["results"]
    ev, refl = res("eval"), res("reflection")
    s = ev["summary"]
    fmt = lambda c: f"{c['diff']:+.1f} [{c['lo']:+.1f}, {c['hi']:+.1f}]"
    quoted = [f"greedy {s['base/greedy']} -> {s['sft-only/greedy']}", f"{s['base/sampled']} -> {s['sft-only/sampled']}",
              fmt(ev["comparisons"]["sft-only vs base"]["sampled"]["overall"]),
              fmt(ev["comparisons"]["sft+rl vs sft-only"]["greedy"]["overall"]),
              fmt(ev["comparisons"]["sft+rl vs sft-only"]["sampled"]["overall"]),
              fmt(ev["comparisons"]["rl-only vs base"]["greedy"]["overall"]),
              f"{round(refl['summary']['reflection_rate'])}% of its answers",
              f"{refl['summary']['acc_reflective']:.1f}% vs {refl['summary']['acc_plain']:.1f}%"]
    missing = [q for q in quoted if q not in text]
    assert not missing, f"README's story does not quote the committed results: {missing}"
