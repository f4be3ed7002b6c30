"""Render nbs/index.ipynb to README.md (nbdev_readme needs Quarto, which is not installable everywhere).

Markdown cells are copied; code cells become ```python blocks with their text outputs after them;
cells marked `#| hide` and image outputs are left out. `python tools/readme.py --check` exits 1 when
README.md is not what index.ipynb renders to.
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def render(nb_path: Path = ROOT / "nbs" / "index.ipynb") -> str:
    nb = json.loads(nb_path.read_text())
    parts = []
    for c in nb["cells"]:
        src = "".join(c["source"]).strip()
        if c["cell_type"] == "markdown":
            if src.startswith("# ") and "\n> " in src:  # nbdev title + summary
                title, _, summary = src.partition("\n> ")
                src = f"{title}\n\n> {summary}"
            parts.append(src)
        elif c["cell_type"] == "code":
            if src.startswith("#| hide") or not src:
                continue
            lines = [l for l in src.splitlines() if not l.startswith("#|")]
            parts.append("```python\n" + "\n".join(lines) + "\n```")
            for o in c.get("outputs", []):
                text = "".join(o.get("text", "")) or "".join(o.get("data", {}).get("text/plain", "")) if "image/png" not in o.get("data", {}) else ""
                if text.strip():
                    parts.append("```\n" + text.rstrip() + "\n```")
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    out = render()
    readme = ROOT / "README.md"
    if "--check" in sys.argv:
        if readme.read_text() != out:
            print("README.md is not in step with nbs/index.ipynb: run `make readme`")
            sys.exit(1)
        print("README.md in step with nbs/index.ipynb")
    else:
        readme.write_text(out)
        print(f"wrote {readme}")
