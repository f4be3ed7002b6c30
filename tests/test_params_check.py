"""A typo or a wrong type in what a caller passes to a run notebook stops the run before any work, naming the field."""
import json

import papermill as pm
import pytest

from conftest import ROOT

RUN = sorted([*(ROOT / "nbs").glob("*_run.ipynb"), ROOT / "nbs" / "99_paper.ipynb"])


@pytest.mark.parametrize("nb_path", RUN, ids=lambda p: p.name)
def test_unknown_and_mistyped_parameters_are_refused(nb_path, tmp_path):
    int_field = {"09_data_run": "n_train", "19_reflection_run": "limit", "29_cot_run": "limit", "39_sft_run": "max_steps",
                 "49_grpo_run": "max_steps", "59_eval_run": "limit", "69_erank_run": "limit"}.get(nb_path.stem)
    cases = [({"lerning_rate": 0.5}, "unknown parameter(s) ['lerning_rate']")]
    if int_field: cases.append(({int_field: "abc"}, f"config key {int_field!r}: expected int, got str 'abc'"))
    for bad, expect in cases:
        with pytest.raises(pm.PapermillExecutionError) as e:
            pm.execute_notebook(str(nb_path), str(tmp_path / "out.ipynb"), parameters=bad, kernel_name="python3",
                                progress_bar=False, cwd=str(ROOT / "nbs"))
        assert expect in str(e.value), str(e.value)[-800:]
        out = json.loads((tmp_path / "out.ipynb").read_text())
        ran = [c for c in out["cells"] if c["cell_type"] == "code" and c.get("execution_count")]
        assert "notebook_overrides" in "".join(ran[-1]["source"]), "the run went past the parameter check"
