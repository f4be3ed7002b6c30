"""One recipe per stage: presets hold only what differs (from the recipe's defaults or from the preset they build
on), and whatever a caller states explicitly wins through every entry point: papermill `-p`, the command line's
`key=value`, and Python."""
import subprocess
import sys

import nbformat
import papermill as pm
import pytest
import yaml

from coldstart_nb.recipes import BASE_KEY, load_recipe, notebook_overrides, preset_values, read_yaml, recipe_class
from conftest import ROOT

CFG = ROOT / "reports" / "configs"
RUN_NB = {"data": "09_data_run", "reflection": "19_reflection_run", "cot": "29_cot_run", "sft": "39_sft_run", "grpo": "49_grpo_run",
          "eval": "59_eval_run", "erank": "69_erank_run", "paper": "99_paper"}
PRESETS = [p for p in sorted(CFG.glob("*_*.yaml")) if p.stem.split("_", 1)[0] in RUN_NB]


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.name)
def test_presets_hold_only_what_differs_with_a_reason(path):
    stage, preset = path.stem.split("_", 1)
    d = read_yaml(path)
    inherited = preset_values(stage, d[BASE_KEY]) if BASE_KEY in d else {}
    defaults = recipe_class(stage)()
    same = [k for k, v in d.items() if k != BASE_KEY and v == inherited.get(k, getattr(defaults, k))]
    assert not same, f"{path.name} repeats what it inherits: {same}"
    lines = path.read_text().splitlines()
    for k in d:
        i = next(i for i, l in enumerate(lines) if l.startswith(f"{k}:"))
        assert "  # " in lines[i] or lines[i - 1].startswith("# "), f"{path.name}: {k} has no comment saying why"
    load_recipe(stage, preset)   # and it resolves


def test_the_7b_presets_are_the_3b_ones_with_the_model_changed():
    "Composition: each paper-7b preset builds on its paper-3b twin and differs only in the model-specific settings."
    allowed = {"model", "models", "data", "output_dir", "tokenizer", "compare"}
    for p in sorted(CFG.glob("*_paper-7b*.yaml")):
        stage, preset = p.stem.split("_", 1)
        if not read_yaml(p): continue   # the paper stage's preset sets nothing
        assert read_yaml(p)[BASE_KEY] == preset.replace("7b", "3b"), p.name
        a, b = load_recipe(stage, preset.replace("7b", "3b")).to_dict(), load_recipe(stage, preset).to_dict()
        assert {k for k in a if a[k] != b[k]} <= allowed, p.name


def prepared(stage, params, tmp_path):
    "The run notebook's namespace after papermill injects `params`: (namespace, names bound before the parameters cell)."
    out = tmp_path / f"{stage}-prepared.ipynb"
    pm.execute_notebook(str(ROOT / "nbs" / f"{RUN_NB[stage]}.ipynb"), str(out), parameters=params, prepare_only=True,
                        kernel_name="python3")
    nb = nbformat.read(out, as_version=4)
    ns, before = {}, None
    for c in nb.cells:
        tags = c.get("metadata", {}).get("tags", [])
        if "parameters" in tags or "injected-parameters" in tags:
            if before is None: before = set(ns) | {"__builtins__"}
            exec(compile(c.source, "parameters", "exec"), ns)   # our own parameters cells, not model output
    return ns, before


def test_papermill_explicit_values_win(tmp_path):
    "Issue 21 defect 1: `-p variant paper-3b -p seed 0 -p use_vllm False` ran seed 42 with vLLM (0 and False are the tiny values)."
    ns, before = prepared("grpo", {"preset": "paper-3b", "seed": 0, "use_vllm": False}, tmp_path)
    r = load_recipe("grpo", ns["preset"], **notebook_overrides(ns, before, "grpo"))
    assert (r.seed, r.use_vllm) == (0, False)
    assert r == load_recipe("grpo", "paper-3b", seed=0, use_vllm=False)
    ns, before = prepared("grpo", {"preset": "paper-3b", "overrides": {"lr": 3e-6}}, tmp_path)
    assert load_recipe("grpo", "paper-3b", **notebook_overrides(ns, before, "grpo")).lr == 3e-6


@pytest.mark.parametrize("stage", sorted(RUN_NB))
def test_every_run_notebook_takes_preset_and_overrides(stage):
    declared = pm.inspect_notebook(str(ROOT / "nbs" / f"{RUN_NB[stage]}.ipynb"))
    assert set(declared) == {"preset", "overrides"}, declared


def test_command_line_explicit_values_win():
    exe = ROOT / ".venv" / "bin" / "coldstart-train"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from coldstart_nb.cli import train_cli; import sys; sys.exit(train_cli())"]
    r = subprocess.run(cmd + ["grpo", "--preset", "paper-3b", "seed=0", "use_vllm=false", "lr=1e-6", "--print-recipe"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    printed = yaml.safe_load(r.stdout)
    assert (printed["seed"], printed["use_vllm"]) == (0, False)
    assert printed == load_recipe("grpo", "paper-3b", seed=0, use_vllm=False).to_dict()
    assert "reports/configs/grpo_paper-3b.yaml" in r.stdout.splitlines()[0]


def test_python_explicit_values_win():
    assert load_recipe("eval", "embedded", limit=0, seed=0).limit == 0     # 0 is the recipe's default and still wins over the preset's 100


def test_reproduce_applies_overrides_to_every_step_that_has_them(capsys):
    from coldstart_nb.cli import reproduce_main
    reproduce_main(["--preset", "paper-7b", "num_gpus=2", "rlonly.lr=2e-6", "--print-recipe"])
    docs = [d for d in capsys.readouterr().out.split("# ---- step ") if d]
    got = {d.splitlines()[0]: yaml.safe_load(d.split("\n", 1)[1]) for d in docs}
    assert {k for k, v in got.items() if v.get("num_gpus") == 2} == {"sft", "grpo", "rlonly"}
    assert (got["rlonly"]["lr"], got["grpo"]["lr"]) == (2e-6, 1e-6)
    assert got["sft"]["model"] == "Qwen/Qwen2.5-VL-7B-Instruct"          # paper-7b, built on paper-3b


def test_the_paper_grpo_settings_live_in_one_place():
    "The paper's KL weight, clip range and learning rate are declared once, in GRPORecipe; no preset repeats them."
    g = recipe_class("grpo")()
    assert (g.beta, g.clip_low, g.clip_high, g.lr, g.micro_batch) == (0.01, 0.2, 0.3, 1e-6, 4)
    for p in CFG.glob("grpo_*.yaml"):
        assert not {"beta", "clip_low", "clip_high", "kl_clamp", "adv_eps"} & set(read_yaml(p))


def test_training_steps_launch_by_their_recipe():
    "A preset that leaves num_gpus at the recipe's default (8 GPUs for GRPO) still runs under accelerate."
    from coldstart_nb.pipeline import step, use_launcher
    assert "num_gpus" not in read_yaml(CFG / "grpo_paper-3b.yaml")
    assert use_launcher(step("grpo"), "paper-3b") and use_launcher(step("sft"), "paper-3b")
    assert not use_launcher(step("grpo"), "embedded")


def test_eval_grader_settings_reach_the_grader():
    r = load_recipe("eval", "tiny", grader_timeout=2.5, grader_workers=3, grader_mode="paper")
    g = r.grade_config()
    assert (g.timeout, g.workers, g.mode) == (2.5, 3, "paper")


def test_cot_presets_reach_the_builder_and_filter_settings():
    "Issue 21 item 4: CotConfig's templates and FilterConfig's thresholds are recipe fields a preset can set."
    from coldstart_nb.cot import CotConfig
    from coldstart_nb.cotdata import FilterConfig
    r = load_recipe("cot", "embedded", caption_prompt="Describe: {question}", hash_distance=2)
    assert r.part(CotConfig).caption_prompt == "Describe: {question}" and r.part(FilterConfig).hash_distance == 2
    assert r.rows_rate == 0.5   # the setting the committed run's story depends on


def test_url_credentials_never_reach_printed_or_recorded_recipes():
    "Issue 22 item 6: a `teacher_url` with `user:password@` is redacted in --print-recipe output and in every results file's metadata."
    from coldstart_nb.core import run_metadata
    from coldstart_nb.recipes import recipe_yaml
    r = load_recipe("cot", "tiny", teacher_url="http://alice:s3cret-Pw0rd@127.0.0.1:9/v1", teacher_backend="openai")
    printed, meta = recipe_yaml(r, "cot preset 'tiny'"), str(run_metadata(r))
    assert "s3cret-Pw0rd" not in printed and "s3cret-Pw0rd" not in meta
    assert "http://[redacted]@127.0.0.1:9/v1" in printed
