"""Every *_run notebook has exactly one `parameters` cell, and papermill injects YAML right after it."""
import configparser
import json

import nbformat
import papermill as pm
import pytest
import yaml

from conftest import ROOT

RUN_NBS = sorted((ROOT / "nbs").glob("*_run.ipynb"))


def test_there_are_run_notebooks():
    assert RUN_NBS, "no *_run notebooks found"


def test_settings_keep_the_parameters_tag():
    cfg = configparser.ConfigParser(); cfg.read(ROOT / "settings.ini")
    assert "tags" in cfg["DEFAULT"]["allowed_cell_metadata_keys"].split(), "nbdev_clean would strip papermill's tag"


@pytest.mark.parametrize("nb_path", RUN_NBS, ids=lambda p: p.name)
def test_one_parameters_cell_and_injection(nb_path, tmp_path):
    nb = nbformat.read(nb_path, as_version=4)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{nb_path.name}: {len(tagged)} parameters cells"
    # the parameters cell names a preset and overrides; every preset of the stage is injected right after it
    stage = nb_path.stem.split("_", 1)[1].rsplit("_run", 1)[0]
    presets = sorted((ROOT / "reports" / "configs").glob(f"{stage}_*.yaml"))
    assert presets, f"no YAML preset for stage {stage!r}"
    src = nb.cells[tagged[0]].source
    declared = {line.split(":")[0].split("=")[0].strip() for line in src.splitlines() if line and not line.startswith("#")}
    # papermill itself must read every parameter (a stray '=' in a comment makes it skip the line)
    assert set(pm.inspect_notebook(str(nb_path))) == declared == {"preset", "overrides"}, f"{nb_path.name}: {declared}"
    for preset in presets:
        params = {"preset": preset.stem.split("_", 1)[1], "overrides": {"seed": 7}}
        out = tmp_path / f"{nb_path.stem}-{preset.stem}.ipynb"
        pm.execute_notebook(str(nb_path), str(out), parameters=params, prepare_only=True, kernel_name="python3")
        res = nbformat.read(out, as_version=4)
        inj = [i for i, c in enumerate(res.cells) if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
        assert inj == [tagged[0] + 1], f"{preset.name}: injected cell at {inj}, expected right after the parameters cell"
        ns = {}
        exec(compile(res.cells[inj[0]].source, "injected", "exec"), ns)  # our own generated cell, not model output
        assert {k: ns[k] for k in params} == params, f"{preset.name}: injected values differ"
