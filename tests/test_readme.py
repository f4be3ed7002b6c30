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
    res = lambda stage: json.loads((ROOT / "reports" / "results" / f"{stage}_embedded.json").read_text())["results"]
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
    pat = {(m, mode): r[mode]["pattern"] for m, r in ev["models"].items() for mode in ("greedy", "sampled")
           if "pattern" in r.get(mode, {})}
    if pat:   # the strategy story: how often SFT-only and SFT+RL count row by row, and the training reward's rise
        g, s_ = pat[("sft-only", "greedy")], pat[("sft-only", "sampled")]
        rg, rs = pat[("sft+rl", "greedy")], pat[("sft+rl", "sampled")]
        quoted += [f"{g['rate']}% of its greedy answers (accuracy {g['acc_with']}% vs {g['acc_without']}%",
                   f"{s_['rate']}% of its samples", f"{rg['rate']}% of greedy and {rs['rate']}% of sampled"]
        share = [c["value"] for c in res("grpo")["curves"] if c["metric"] == "pattern/rate"]
        quoted += [f"falls from {100 * share[0]:.0f}% at the first step to {100 * share[-1]:.0f}% at the last"]
        trend = (ROOT / "reports" / "tables" / "reward_trend_embedded.md").read_text()
        row = next(line for line in trend.splitlines() if line.startswith("| SFT+RL |")).strip("| ").split(" | ")
        quoted += [f"from {row[2]} to {row[3]}", f"slope {float(row[4]):+.2f} per 10 steps, 95% CI {row[5]}"]
    times = (ROOT / "reports" / "results" / "pipeline_embedded.json")
    if times.exists():   # the per-stage times the story quotes
        sec = json.loads(times.read_text())["results"]["stage_seconds"]
        quoted += [f"data {sec['data']:.0f} s, base pre-training {sec['base']:.0f} s", f"SFT {sec['sft']:.0f} s, GRPO {sec['grpo']:.0f} s",
                   f"RL-only {sec['rlonly']:.0f} s, evaluation {sec['eval']:.0f} s"]
    missing = [q for q in quoted if q not in text]
    assert not missing, f"README's story does not quote the committed results: {missing}"
