"""The CoT-variant ablation (make ablation, issue 24): its presets differ between variants only in the declared fields, SFT trains
on an equal-size subset whose content the fingerprint names, and the report builds the ablation's table and figure from a results
file. The ablation's own run is `make ablation`; these checks take seconds, plus one tiny SFT run."""
import json
from pathlib import Path

import datasets
import pytest

from coldstart_nb.recipes import load_recipe
from conftest import ROOT

VARIANTS = ("distilled", "reflection", "caption", "self-critic")
SCALES = {"embedded": "ablation", "3b": "ablation-3b", "7b": "ablation-7b"}   # the eval/paper preset of each scale
SFT_DIFFERS = {"data", "output_dir"}       # a variant's SFT: its data, and where it goes
GRPO_DIFFERS = {"model", "output_dir"}     # a variant's GRPO: its SFT model, and where it goes


def variant_preset(scale, v): return f"ablation-{v}" if scale == "embedded" else f"ablation-{scale}-{v}"


def differing(stage, a, b):
    x, y = load_recipe(stage, a).to_dict(), load_recipe(stage, b).to_dict()
    return {k for k in x if x[k] != y[k]}


@pytest.mark.parametrize("scale", sorted(SCALES))
def test_variants_differ_only_in_the_declared_fields(scale):
    ref = variant_preset(scale, "distilled")
    for v in VARIANTS[1:]:
        assert differing("sft", ref, variant_preset(scale, v)) == SFT_DIFFERS, (scale, v)
        assert differing("grpo", ref, variant_preset(scale, v)) == GRPO_DIFFERS, (scale, v)
    sft = {v: load_recipe("sft", variant_preset(scale, v)) for v in VARIANTS}
    grpo = {v: load_recipe("grpo", variant_preset(scale, v)) for v in VARIANTS}
    assert len({r.max_examples for r in sft.values()}) == 1 and sft["distilled"].max_examples > 0   # equal examples, a subset
    assert len({r.data for r in sft.values()}) == 4 and all(r.data.endswith("/" + v) for v, r in sft.items())
    for v in VARIANTS: assert grpo[v].model == sft[v].output_dir + "/final"   # GRPO starts from its own variant's SFT model
    models = dict(load_recipe("eval", SCALES[scale]).model_list())
    assert set(models) == {"base"} | {f"{v}-{s}" for v in VARIANTS for s in ("sft", "sft+rl")}
    for v in VARIANTS:
        assert models[f"{v}-sft"] == sft[v].output_dir + "/final" and models[f"{v}-sft+rl"] == grpo[v].output_dir + "/final"
        assert models["base"] == sft[v].model   # SFT from the same base that is evaluated as the base
    pairs = load_recipe("eval", SCALES[scale]).pairs()
    for v in VARIANTS[1:]:
        assert (f"{v}-sft", "distilled-sft") in pairs and (f"{v}-sft+rl", "distilled-sft+rl") in pairs
    for v in VARIANTS: assert (f"{v}-sft+rl", f"{v}-sft") in pairs


def test_the_ablation_follows_the_main_run_but_for_declared_settings():
    "The embedded ablation is make reproduce's SFT and GRPO recipe, with only the equal-example subset, sizes and length changed."
    assert differing("sft", "embedded", "ablation-distilled") == {"output_dir", "max_examples", "max_steps"}
    assert differing("grpo", "embedded", "ablation-distilled") == {"model", "output_dir", "max_completion_length", "max_steps",
                                                                   "save_steps"}
    e, a = load_recipe("eval", "embedded").to_dict(), load_recipe("eval", "ablation").to_dict()
    assert {k for k in e if e[k] != a[k]} <= {"models", "compare", "limit", "sampled_limit", "sampled_n", "max_new_tokens",
                                              "reflection"}   # sizes (bench/results/power.md), the trace length, reflection stats
    # every trace fits the generation budget of GRPO and the evaluation
    assert load_recipe("grpo", "ablation-distilled").max_completion_length == a["max_new_tokens"]


def test_equal_examples_fit_every_variant_built():
    "max_examples is at most the smallest variant's size, as the committed CoT run counted them (a larger one is refused)."
    n = load_recipe("sft", "ablation-distilled").max_examples
    summary = json.loads((ROOT/"reports"/"results"/"cot_embedded.json").read_text())["results"]["summary"]
    sizes = {v: summary[v] for v in VARIANTS}
    assert all(n <= s for s in sizes.values()) and n > 0.9 * min(sizes.values()), sizes   # equal, and close to the smallest set
    built = {v: len(datasets.load_from_disk(str(ROOT/"data"/"cot"/"embedded"/"hf"/v))) for v in VARIANTS
             if (ROOT/"data"/"cot"/"embedded"/"hf"/v).exists()}
    assert all(built[v] == sizes[v] for v in built), (built, sizes)   # a checkout that built the data has the committed counts


def test_sft_trains_on_the_subset_and_its_fingerprint_names_it(tmp_path):
    "A tiny SFT with max_examples: the finished run's data digest is the subset's, not the whole set's; the same subset is reused."
    from coldstart_nb.sft import load_sft_data, subset_examples
    from coldstart_nb.stages import run_stage
    from coldstart_nb.train import data_identity
    out = tmp_path/"sft"
    over = {"max_examples": 24, "max_steps": 2, "save_steps": 2, "logging_steps": 1, "output_dir": str(out), "report_to": "none",
            "eval_fraction": 0.0}
    run_stage("sft", "tiny", over, write=False)
    rec = json.loads((out/"final"/"coldstart_training.json").read_text())
    r = load_recipe("sft", "tiny", **over)
    full = load_sft_data(r.data)
    sub = subset_examples(full, 24, r.seed)
    assert len(sub) == 24 < len(full)
    assert rec["fingerprint"]["data"] == data_identity(sub, r.data) != data_identity(full, r.data)
    assert "max_examples" not in rec["fingerprint"]["config"]   # named by the data digest instead
    again = run_stage("sft", "tiny", over, write=False)          # the finished run is found, nothing is trained
    assert again["summary"]["steps"] == rec["global_step"]


@pytest.fixture
def project_tmp():
    "A scratch folder inside the project (the paper stage names what it wrote relative to the project), under ignored checkpoints/."
    import shutil, tempfile
    (ROOT/"checkpoints").mkdir(exist_ok=True)
    d = Path(tempfile.mkdtemp(prefix=".test-ablation-", dir=ROOT/"checkpoints"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_the_report_builds_the_ablation_table_and_figure(project_tmp):
    "From an eval results file with the ablation's labels: reports/tables/ablation_<name>.* and reports/figures/ablation_<name>.*."
    import numpy as np
    tmp_path = project_tmp
    from coldstart_nb.core import write_results
    from coldstart_nb.stages import PaperRecipe, run_paper
    from coldstart_nb.stats import compare_runs
    rng = np.random.default_rng(0)
    fam = ("synth-vista", "synth-verse", "synth-vision", "synth-wemath")
    acc = {"base": 0.2} | {f"{v}-{s}": 0.3 + 0.02 * i + (0.05 if s == "sft+rl" else 0) for i, v in enumerate(VARIANTS)
                           for s in ("sft", "sft+rl")}
    recs = {m: {mode: [{"benchmark": f, "id": f"{f}-{i}", "correct": bool(rng.random() < p)} for f in fam for i in range(40)
                       for _ in range(1 if mode == "greedy" else 2)] for mode in ("greedy", "sampled")} for m, p in acc.items()}
    def entry(m):
        out = {}
        for mode, rs in recs[m].items():
            sc = {f: {"overall": {"acc": round(100 * float(np.mean([r["correct"] for r in rs if r["benchmark"] == f])), 2),
                                  "ci": [0, 100]}} for f in fam}
            out[mode] = {"scores": sc, "avg": None, "reflection": {"reflection_rate": 10.0 * (m != "base"), "acc_reflective": 25.0,
                                                                    "acc_plain": 30.0}}
        return out
    pairs = load_recipe("eval", "ablation").pairs()
    results = {"summary": {}, "models": {m: entry(m) for m in acc}, "comparisons": compare_runs(recs, pairs), "pass_at_k": {}}
    rdir = tmp_path/"results"
    write_results("eval", "abltest", results, out_dir=rdir)
    got = run_paper(PaperRecipe(results_dir=str(rdir), tables_dir=str(tmp_path/"tables"), figures_dir=str(tmp_path/"figures")),
                    "abltest")["written"]
    names = {p.rsplit("/", 1)[-1] for p in got}
    assert {"ablation_abltest.md", "ablation_abltest.csv", "ablation_paired_abltest.md", "ablation_abltest.png", "ablation_abltest.svg",
            "ablation_abltest.html"} <= names
    table = (tmp_path/"tables"/"ablation_abltest.csv").read_text().splitlines()
    assert len(table) == 1 + 8 and "reflection rate (%) sampled" in table[0]   # 4 variants x 2 stages, with reflection columns
    paired = (tmp_path/"tables"/"ablation_paired_abltest.md").read_text()
    assert paired.count("reflection-sft vs distilled-sft |") == 2 and "excludes 0" in paired   # greedy and sampled
    assert (tmp_path/"figures"/"ablation_abltest.png").stat().st_size > 1000
