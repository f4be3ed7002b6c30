"""Render nbs/index.ipynb to README.md (nbdev_readme needs Quarto, which is not installable everywhere).

Markdown cells are copied; code cells become ```python blocks with their outputs after them: text as a
plain block, PNG images written to `reports/figures/readme/` and linked. Cells marked `#| hide` and
standard-error streams (warnings) are left out. `python tools/readme.py --check` exits 1 when README.md
or one of its images is not what index.ipynb renders to.
"""
import base64
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = Path("reports") / "figures" / "readme"


def output_text(o: dict) -> str:
    "The text of one output (a stream's text, or a result's text/plain); '' for errors, stderr and images."
    if o.get("output_type") == "stream":
        return "" if o.get("name") == "stderr" else "".join(o.get("text", ""))
    data = o.get("data", {})
    if "image/png" in data:
        return ""
    return "".join(data.get("text/markdown", "")) or "".join(data.get("text/plain", ""))


def render(nb_path: Path = ROOT / "nbs" / "index.ipynb") -> tuple[str, dict]:
    "README.md's text and the images it links ({relative path: PNG bytes})."
    nb = json.loads(nb_path.read_text())
    parts, images = [], {}
    for i, c in enumerate(nb["cells"]):
        src = "".join(c["source"]).strip()
        if c["cell_type"] == "markdown":
            if src.startswith("# ") and "\n> " in src:  # nbdev title + summary
                title, _, summary = src.partition("\n> ")
                src = f"{title}\n\n> {summary}"
            parts.append(src.replace("](../", "]("))   # links relative to nbs/ become relative to the root
            continue
        if c["cell_type"] != "code" or src.startswith("#| hide") or not src:
            continue
        lines = [l for l in src.splitlines() if not l.startswith("#|")]
        parts.append("```python\n" + "\n".join(lines) + "\n```")
        for k, o in enumerate(c.get("outputs", [])):
            png = o.get("data", {}).get("image/png")
            if png:
                rel = IMAGES / f"index-{i:02d}-{k}.png"
                images[rel.as_posix()] = base64.b64decode("".join(png))
                parts.append(f"![]({rel.as_posix()})")
                continue
            if o.get("data", {}).get("text/markdown"):
                parts.append(output_text(o).strip())
                continue
            text = output_text(o)
            if text.strip():
                parts.append("```\n" + text.rstrip() + "\n```")
    return "\n\n".join(parts) + "\n", images


def stale(out: str, images: dict) -> list[str]:
    "Files that differ from what index.ipynb renders to."
    bad = [] if (ROOT / "README.md").read_text() == out else ["README.md"]
    bad += [p for p, b in images.items() if not (ROOT / p).exists() or (ROOT / p).read_bytes() != b]
    old = {p.relative_to(ROOT).as_posix() for p in (ROOT / IMAGES).glob("*.png")}
    return bad + sorted(old - set(images))


if __name__ == "__main__":
    out, images = render()
    if "--check" in sys.argv:
        bad = stale(out, images)
        if bad:
            print("not in step with nbs/index.ipynb: " + ", ".join(bad) + "; run `make readme`")
            sys.exit(1)
        print("README.md in step with nbs/index.ipynb")
    else:
        (ROOT / IMAGES).mkdir(parents=True, exist_ok=True)
        for p in (ROOT / IMAGES).glob("*.png"):
            if p.relative_to(ROOT).as_posix() not in images:
                p.unlink()
        for p, b in images.items():
            (ROOT / p).write_bytes(b)
        (ROOT / "README.md").write_text(out)
        print(f"wrote README.md and {len(images)} image(s) under {IMAGES}")
