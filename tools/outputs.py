"""Execute library notebooks in place so their committed outputs show what each lesson computes.

The docs site renders stored outputs, so a notebook committed without them shows no value, table or
chart. This runs each notebook the way `nbdev_test` does (cells flagged with `settings.ini`'s
`tst_flags` and `#| eval: false` are skipped), then keeps the outputs except:
- standard-error streams (warnings, progress bars), which are volatile and not part of a lesson;
- cells marked `#| output: false` (the Quarto option nbdev's docs honour), for large or volatile output;
- any cell whose outputs exceed `--max-kb` (reported, so the author can mark it).
Run notebooks (`*_run`, `99_paper`) are left alone: their executed copies are `reports/runs/`.

    python tools/outputs.py                 # every library notebook
    python tools/outputs.py nbs/06b_stats.ipynb
"""
import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def library_notebooks() -> list[Path]:
    "The notebooks whose outputs are committed: every one in nbs/ but the run notebooks."
    return [p for p in sorted((ROOT / "nbs").glob("*.ipynb")) if not p.stem.endswith("_run") and p.stem != "99_paper"]


def directives(source: str) -> dict:
    "The `#| key: value` lines at the top of a cell."
    out = {}
    for line in source.splitlines():
        if not line.startswith("#|"):
            break
        key, _, val = line[2:].strip().partition(":")
        out[key.strip()] = val.strip()
    return out


def keep(cell: dict, max_kb: float) -> tuple[list, str | None]:
    "The outputs of `cell` worth committing, and a note when some were dropped for size."
    if directives("".join(cell["source"])).get("output", "").lower() == "false":
        return [], None
    outs = [o for o in cell.get("outputs", []) if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    size = len(json.dumps(outs)) / 1024
    if size > max_kb:
        return [], f"{size:.0f} KB of output dropped (mark the cell `#| output: false` or show less)"
    return outs, None


def execute(path: Path, max_kb: float) -> list[str]:
    "Run `path` in place (outputs kept as above); returns notes on dropped outputs."
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    from nbdev.config import get_config
    flags = set(get_config().tst_flags.split())

    def skip(cell):
        if cell.cell_type != "code" or "nbdev_export(" in cell.source:
            return True
        d = directives(cell.source)
        return d.get("eval", "").lower() == "false" or bool(flags & set(d))

    nb = read_nb(path)
    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        CaptureShell(path).run_all(nb, exc_stop=True, preproc=skip)
    finally:
        os.chdir(cwd)
    notes = []
    for i, c in enumerate(nb.cells):
        if c.cell_type != "code":
            continue
        c.outputs, note = keep(c, max_kb)
        if note:
            notes.append(f"{path.name} cell {i}: {note}")
    write_nb(nb, path)
    return notes


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: every library notebook)")
    ap.add_argument("--max-kb", type=float, default=150, help="largest output a cell may commit")
    a = ap.parse_args()
    os.environ.setdefault("IN_TEST", "1")
    notes = []
    for p in a.notebooks or library_notebooks():
        print(f"running {p.name}", flush=True)
        notes += execute(p.resolve(), a.max_kb)
    print("\n".join(notes) or "no output dropped for size")
    sys.exit(0)
