"""Write the parameters cells of the recipe stages' run notebooks from their dataclasses.

The dataclass (`SFTRecipe`, `GRPORecipe`, `EvalRecipe`) is the one place a default lives; the run
notebook's parameters cell is generated from it, valued by the `tiny` preset (`core.parameters_source`).
`python tools/params.py` rewrites the cells; `--check` exits 1, naming the notebooks, when one differs.
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {"sft": "39_sft_run.ipynb", "grpo": "49_grpo_run.ipynb", "eval": "59_eval_run.ipynb"}


def parameters_cell(nb: dict) -> dict:
    "The notebook's one cell tagged `parameters`."
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise SystemExit(f"expected one parameters cell, found {len(cells)}")
    return cells[0]


def stale() -> list[str]:
    "Notebooks whose parameters cell is not what their recipe generates (rewritten unless checking)."
    from coldstart_nb.core import parameters_source
    out = []
    for stage, name in NOTEBOOKS.items():
        path = ROOT / "nbs" / name
        nb = json.loads(path.read_text())
        cell, want = parameters_cell(nb), parameters_source(stage)
        if "".join(cell["source"]) == want:
            continue
        out.append(name)
        if "--check" not in sys.argv:
            lines = want.split("\n")
            cell["source"] = [l + "\n" for l in lines[:-1]] + lines[-1:]
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return out


if __name__ == "__main__":
    bad = stale()
    if "--check" in sys.argv and bad:
        print("parameters cells differ from their recipes: " + ", ".join(bad) + "; run `python tools/params.py`")
        sys.exit(1)
    print(("rewrote " + ", ".join(bad)) if bad else "parameters cells in step with their recipes")
