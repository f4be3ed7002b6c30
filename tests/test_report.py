"""The produced tables carry exactly the numbers of the results JSON, and every figure file exists and is non-trivial."""
import json

import pandas as pd
import pytest

from conftest import ROOT

RES, TAB, FIG = ROOT / "reports" / "results", ROOT / "reports" / "tables", ROOT / "reports" / "figures"
COL = {"synth-vision": "MathVision", "synth-verse": "MathVerse", "synth-vista": "MathVista", "synth-wemath": "We-Math",
       "mathvision": "MathVision", "mathverse": "MathVerse", "mathvista": "MathVista", "wemath": "We-Math"}


def variants():
    return sorted(p.stem.split("_", 1)[1] for p in RES.glob("eval_*.json") if (TAB / f"main_results_{p.stem.split('_', 1)[1]}.csv").exists())


@pytest.mark.parametrize("variant", variants())
def test_main_table_matches_results(variant):
    res = json.loads((RES / f"eval_{variant}.json").read_text())["results"]["models"]
    tab = pd.read_csv(TAB / f"main_results_{variant}.csv")
    ours = tab[tab.source.str.startswith("ours")]
    assert set(ours.model) == {m for m, r in res.items() if "greedy" in r}
    for model, r in res.items():
        row = ours[ours.model == model].iloc[0]
        accs = []
        for bench, v in r["greedy"]["scores"].items():
            if bench in COL:
                assert abs(row[COL[bench]] - v["overall"]["acc"]) < 1e-9, (model, bench)
                accs.append(v["overall"]["acc"])
        assert abs(row["Avg"] - round(sum(accs) / len(accs), 2)) < 1e-9
    paper = tab[tab.source == "paper, Figure 1"]
    assert paper[paper.model == "Ours-7B (paper)"]["MathVista"].item() == 73.4


@pytest.mark.parametrize("variant", variants())
def test_stage_and_reflection_tables_match(variant):
    st = pd.read_csv(TAB / f"stages_{variant}.csv")
    res = json.loads((RES / f"eval_{variant}.json").read_text())["results"]["models"]
    for model, r in res.items():
        if "sampled" in r and r["sampled"]["avg"] is not None:
            assert abs(st[st.model == model]["Avg (sampled)"].item() - r["sampled"]["avg"]) < 1e-9
    refl_json = RES / f"reflection_{variant}.json"
    if refl_json.exists():
        from coldstart_nb.report import short_group
        groups = json.loads(refl_json.read_text())["results"]["analysis"]["groups"]
        rt = pd.read_csv(TAB / f"reflection_{variant}.csv")
        for g, v in groups.items():
            row = rt[rt.group == short_group(g)]
            assert row["n"].item() == v["n"] and abs(row["reflection rate (%)"].item() - v["reflection_rate"]) < 1e-9


@pytest.mark.parametrize("variant", variants())
def test_figures_exist(variant):
    for name in (f"benchmarks_{variant}", f"aha_{variant}", f"grpo_curves_{variant}"):
        for ext in ("png", "svg", "html"):
            p = FIG / f"{name}.{ext}"
            assert p.exists() and p.stat().st_size > 2000, p
        assert (FIG / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
