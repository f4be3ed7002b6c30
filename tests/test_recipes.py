"""One declaration per setting: the recipe dataclasses hold the defaults, presets only what differs (each with a
comment), the run notebooks' parameters cells are generated from the dataclasses, and a papermill run of a preset
runs exactly that preset's recipe, whichever way the preset reached it."""
import ast
import json
import subprocess
import sys

import nbformat
import papermill as pm
import pytest
import yaml

from coldstart_nb.core import RUN_ONLY_KEYS, load_recipe, recipe_class, run_recipe
from conftest import ROOT

CFG = ROOT / "reports" / "configs"
RECIPE_NB = {"sft": "39_sft_run", "grpo": "49_grpo_run", "eval": "59_eval_run"}
OTHER_NB = {"data": "09_data_run", "reflection": "19_reflection_run", "cot": "29_cot_run", "paper": "99_paper"}


def presets(stages):
    return [p for p in sorted(CFG.glob("*.yaml")) if p.stem.split("_", 1)[0] in stages]


def test_parameters_cells_are_generated_from_the_recipes():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "params.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("path", presets(RECIPE_NB), ids=lambda p: p.name)
def test_recipe_presets_hold_only_what_differs_with_a_reason(path):
    stage, preset = path.stem.split("_", 1)
    cls, d = recipe_class(stage), yaml.safe_load(path.read_text())
    assert d["variant"] == preset, f"{path.name}: variant {d['variant']!r} is not the preset's name"
    same = [k for k, v in d.items() if k not in RUN_ONLY_KEYS and v == getattr(cls(), k)]
    assert not same, f"{path.name} repeats {cls.__name__}'s defaults: {same}"
    lines = path.read_text().splitlines()
    for k in d:
        if k in RUN_ONLY_KEYS:
            continue
        i = next(i for i, l in enumerate(lines) if l.startswith(f"{k}:"))
        assert "  # " in lines[i] or lines[i - 1].startswith("# "), f"{path.name}: {k} has no comment saying why"


@pytest.mark.parametrize("path", presets(OTHER_NB), ids=lambda p: p.name)
def test_other_presets_hold_only_what_differs_from_their_notebook(path):
    stage = path.stem.split("_", 1)[0]
    declared = {k: ast.literal_eval(v["default"]) for k, v in pm.inspect_notebook(str(ROOT / "nbs" / f"{OTHER_NB[stage]}.ipynb")).items()}
    d = yaml.safe_load(path.read_text()) or {}
    same = [k for k, v in d.items() if k != "variant" and v == declared.get(k)]
    assert not same, f"{path.name} repeats its notebook's defaults: {same}"


def injected(stage, params):
    "What the run notebook's `params` are after papermill injects `params` (the parameters cell, then the injected cell)."
    nb_path = ROOT / "nbs" / f"{RECIPE_NB[stage]}.ipynb"
    out = ROOT / ".pytest_cache" / f"{stage}-prepared.ipynb"
    out.parent.mkdir(exist_ok=True)
    pm.execute_notebook(str(nb_path), str(out), parameters=params, prepare_only=True, kernel_name="python3")
    nb = nbformat.read(out, as_version=4)
    ns = {}
    for c in nb.cells:
        tags = c.get("metadata", {}).get("tags", [])
        if "parameters" in tags or "injected-parameters" in tags:
            exec(compile(c.source, "parameters", "exec"), ns)  # our own parameters cells, not model output
    return {k: ns[k] for k in ns["__annotations__"]}


@pytest.mark.parametrize("path", [CFG / "grpo_paper-3b.yaml", CFG / "grpo_default.yaml", CFG / "sft_default-base.yaml",
                                  CFG / "eval_paper-3b.yaml"], ids=lambda p: p.name)
def test_a_papermill_run_of_a_preset_runs_that_preset(path):
    "`papermill -f <preset>.yaml`: the keys a preset leaves out take the recipe's defaults, not the notebook's tiny values."
    stage, preset = path.stem.split("_", 1)
    want = load_recipe(stage, preset)
    assert run_recipe(stage, injected(stage, yaml.safe_load(path.read_text()))) == want
    # `-p variant <preset>` alone names the same recipe, and a parameter passed on top of it wins
    assert run_recipe(stage, injected(stage, {"variant": preset})) == want
    over = injected(stage, {"variant": preset, "seed": 1234})
    assert run_recipe(stage, over).seed == 1234


def test_the_tiny_run_is_the_notebooks_own():
    for stage in RECIPE_NB:
        params = injected(stage, {})
        assert run_recipe(stage, params).to_dict() == {k: v for k, v in params.items() if k not in RUN_ONLY_KEYS}


def test_the_paper_grpo_settings_live_in_one_place():
    "The paper's KL weight, clip range and learning rate are declared once, in GRPORecipe; no preset repeats them."
    g = recipe_class("grpo")()
    assert (g.beta, g.clip_low, g.clip_high, g.lr, g.micro_batch) == (0.01, 0.2, 0.3, 1e-6, 4)
    for p in presets({"grpo"}):
        assert not {"beta", "clip_low", "clip_high", "kl_clamp", "adv_eps"} & set(yaml.safe_load(p.read_text()))


def test_training_stages_launch_by_their_recipe():
    "A preset that leaves num_gpus at the recipe's default (8 GPUs for GRPO) still runs under accelerate."
    from coldstart_nb.pipeline import use_launcher
    assert "num_gpus" not in yaml.safe_load((CFG / "grpo_paper-3b.yaml").read_text())
    assert use_launcher("grpo", "grpo_{preset}", "paper-3b", "auto")
    assert use_launcher("sft", "sft_{preset}", "paper-3b", "auto")
    assert not use_launcher("grpo", "grpo_{preset}", "default", "auto")


def test_eval_grader_settings_reach_the_grader():
    r = load_recipe("eval", "tiny", grader_timeout=2.5, grader_workers=3, grader_mode="paper")
    g = r.grade_config()
    assert (g.timeout, g.workers, g.mode) == (2.5, 3, "paper")
    assert type(r).from_dict(json.loads(json.dumps(r.to_dict()))) == r   # recorded with the results as JSON, and read back
