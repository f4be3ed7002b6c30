"""The produced tables carry exactly the numbers of the results JSON, and every figure file exists and is non-trivial;
a benchmark added to the registry reaches the main table and the average."""
import contextlib
import json

import pandas as pd
import pytest

from conftest import ROOT

RES, TAB, FIG = ROOT / "reports" / "results", ROOT / "reports" / "tables", ROOT / "reports" / "figures"


def columns_of_registry() -> tuple[dict, set]:
    "Benchmark or synthetic family -> column, and the columns counted in the average, from `data.BENCHMARKS`."
    from coldstart_nb.data import BENCHMARKS
    return ({k: b.column for b in BENCHMARKS.values() for k in (b.name, b.synth) if k},
            {b.column for b in BENCHMARKS.values() if b.in_average})


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
        col, averaged = columns_of_registry()
        for bench, v in r["greedy"]["scores"].items():
            if bench in col:
                assert abs(row[col[bench]] - v["overall"]["acc"]) < 1e-9, (model, bench)
                if col[bench] in averaged: accs.append(v["overall"]["acc"])
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
    names = [f"benchmarks_{variant}", f"grpo_curves_{variant}"]
    if (RES / f"reflection_{variant}.json").exists(): names.append(f"aha_{variant}")   # a run with a reflection stage (not the ablation)
    for name in names:
        for ext in ("png", "svg", "html"):
            p = FIG / f"{name}.{ext}"
            assert p.exists() and p.stat().st_size > 2000, p
        assert (FIG / f"{name}.png").read_bytes()[:4] == b"\x89PNG"


@contextlib.contextmanager
def fifth_benchmark(name="mathlogic", column="MathLogic", synth="synth-logic"):
    "A fifth benchmark for the length of a `with` block: its adapter in SOURCES and one `register_benchmark` call, then both removed."
    from coldstart_nb.data import BENCHMARKS, SOURCES, SourceSpec, convert_mathvision, register_benchmark
    saved = dict(BENCHMARKS), dict(SOURCES)
    SOURCES[name] = SourceSpec("demo/MathLogic", "test", convert_mathvision)   # a stand-in adapter
    try:
        yield register_benchmark(name, column, synth=synth)
    finally:
        for reg, old in zip((BENCHMARKS, SOURCES), saved):
            reg.clear()
            reg.update(old)


def test_fifth_benchmark_reaches_main_table_and_average():
    "A results payload with a fifth benchmark: dropped (with a warning) while unregistered, in the table and the Avg once registered."
    from coldstart_nb.report import bench_columns, benchmark_figure, eval_table, main_table, stage_table
    ev = {**json.loads((RES / "eval_embedded.json").read_text()), "file": "eval_five.json"}   # the committed four, plus a fifth
    four = {m: [v["overall"]["acc"] for v in r["greedy"]["scores"].values()] for m, r in ev["results"]["models"].items()}
    assert all(len(v) == 4 for v in four.values())
    fifth = {m: 50.0 + 3 * i for i, m in enumerate(four)}
    for m, r in ev["results"]["models"].items():
        r["greedy"]["scores"]["synth-logic"] = {"overall": {"acc": fifth[m], "ci": [fifth[m] - 5, fifth[m] + 5]}}

    with pytest.warns(UserWarning, match="synth-logic"):   # before: an unregistered benchmark is left out, and says so
        before = main_table(ev)
    assert "MathLogic" not in before.columns
    ours = before[before.source.str.startswith("ours")].set_index("model")
    for m in fifth: assert ours.loc[m, "Avg"] == round(sum(four[m]) / 4, 2)

    with fifth_benchmark():
        assert bench_columns()[-1] == "MathLogic" and bench_columns(average_only=True)[-1] == "MathLogic"
        t = main_table(ev)
        assert list(t.columns) == ["model", "MathVision", "MathVerse", "MathVista", "We-Math", "MathLogic", "Avg", "source"]
        ours = t[t.source.str.startswith("ours")].set_index("model")
        paper = t[t.source == "paper, Figure 1"].set_index("model")
        for m in fifth:
            assert ours.loc[m, "MathLogic"] == fifth[m]
            assert ours.loc[m, "Avg"] == round((sum(four[m]) + fifth[m]) / 5, 2) != round(sum(four[m]) / 4, 2)
        assert paper["MathLogic"].isna().all() and paper.loc["Ours-7B (paper)", "Avg"] == 55.7   # no paper number: blank
        st = stage_table(ev).set_index("model")
        assert (st["MathLogic"] == pd.Series(fifth)).all() and (st["Avg (greedy)"] == ours["Avg"]).all()
        spec = benchmark_figure(eval_table(ev)).to_dict()
        assert "MathLogic" in {row["benchmark"] for row in next(iter(spec["datasets"].values()))}

    with pytest.warns(UserWarning, match="synth-logic"):   # removed again: the registry is as it was
        assert "MathLogic" not in main_table(ev, with_paper=False).columns


def test_the_ablation_table_of_a_run_that_is_no_ablation_is_empty():
    "The paper stage builds the ablation table of every evaluation: a greedy-only run of other models (the rehearsal's) gets none."
    from coldstart_nb.report import ablation_table
    payload = json.loads((RES / "eval_rehearsal.json").read_text())
    assert not any("sampled" in m for m in payload["results"]["models"].values())   # greedy only, as the crash needed
    assert ablation_table(payload).empty
