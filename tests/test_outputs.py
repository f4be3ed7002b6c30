"""The library notebooks are committed with their outputs (the docs site renders stored outputs), and those outputs
are small and free of what differs from machine to machine: local paths, memory addresses, warnings on stderr."""
import json
import re
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from outputs import directives, library_notebooks  # noqa: E402

VOLATILE = re.compile(r"(/work/|/tmp/|/root/|/home/|/private/var/| at 0x[0-9a-f]{6,})")


def output_text(o: dict) -> str:
    if o.get("output_type") == "stream":
        return "".join(o.get("text", ""))
    data = o.get("data", {})
    return "".join("".join(v) if isinstance(v, list) else str(v) for k, v in data.items() if k.startswith("text/"))


@pytest.mark.parametrize("nb_path", library_notebooks(), ids=lambda p: p.name)
def test_library_notebook_shows_its_outputs(nb_path):
    cells = [c for c in json.loads(nb_path.read_text())["cells"] if c["cell_type"] == "code"]
    outs = [(i, o) for i, c in enumerate(cells) for o in c.get("outputs", [])]
    assert outs, f"{nb_path.name} is committed without outputs: run `python tools/outputs.py {nb_path.relative_to(ROOT)}`"
    assert len(json.dumps([o for _, o in outs])) < 1_500_000, f"{nb_path.name}: committed outputs over 1.5 MB"
    for i, o in outs:
        assert not (o.get("output_type") == "stream" and o.get("name") == "stderr"), f"{nb_path.name} code cell {i}: stderr committed"
        m = VOLATILE.search(output_text(o))
        assert not m, f"{nb_path.name} code cell {i}: output holds {m.group(0)!r}, which differs between machines"
    for i, c in enumerate(cells):
        if directives("".join(c["source"])).get("output", "").lower() == "false":
            assert not c.get("outputs"), f"{nb_path.name} code cell {i} is marked `#| output: false` but has outputs"


def test_run_notebooks_are_not_library_notebooks():
    names = {p.name for p in library_notebooks()}
    assert "index.ipynb" in names and "00_core.ipynb" in names
    assert not any(n.endswith("_run.ipynb") for n in names) and "99_paper.ipynb" not in names
