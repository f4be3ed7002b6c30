"""A typo or a wrong type in a run notebook's parameters stops the run before any work, naming the parameter."""
import json

import papermill as pm
import pytest

from conftest import ROOT

CHECKED = [p for p in sorted((ROOT / "nbs").glob("*_run.ipynb")) if "check_params(globals()" in p.read_text()]


def test_every_run_notebook_checks_its_parameters():
    assert {p.name for p in CHECKED} == {p.name for p in (ROOT / "nbs").glob("*_run.ipynb")}


@pytest.mark.parametrize("nb_path", CHECKED, ids=lambda p: p.name)
def test_unknown_and_mistyped_parameters_are_refused(nb_path, tmp_path):
    params = pm.inspect_notebook(str(nb_path))
    int_param = next(k for k, v in params.items() if v["inferred_type_name"] == "int")
    for bad, expect in (({"lerning_rate": 0.5}, "unknown parameter(s) ['lerning_rate']"),
                        ({int_param: "abc"}, f"parameter {int_param!r}: expected int, got str 'abc'")):
        with pytest.raises(pm.PapermillExecutionError) as e:
            pm.execute_notebook(str(nb_path), str(tmp_path / "out.ipynb"), parameters=bad, kernel_name="python3",
                                progress_bar=False, cwd=str(ROOT / "nbs"))
        assert expect in str(e.value), str(e.value)[-800:]
        out = json.loads((tmp_path / "out.ipynb").read_text())
        ran = [c for c in out["cells"] if c["cell_type"] == "code" and c.get("execution_count")]
        assert "check_params" in "".join(ran[-1]["source"]), "the run went past the parameter check"
