"""House style that keeps the code readable (fastai's style guide, where we follow its style): pyflakes reports
nothing, no statements chained with `;`, no line over 140 characters, in the library and in every notebook's code."""
import io
import json
import subprocess
import sys
import tokenize

from conftest import ROOT

MAX_LEN = 140


def _cells(nb):
    "Yield `(cell_index, source)` of each code cell of notebook `nb`."
    for i, c in enumerate(json.loads(nb.read_text())["cells"]):
        if c["cell_type"] == "code": yield i, "".join(c["source"])


def _offences(src):
    "Lines (1-based) of `src` that chain statements with `;` or exceed `MAX_LEN` characters, with the reason."
    out = [(i, f"{len(l)} chars") for i, l in enumerate(src.splitlines(), 1) if len(l) > MAX_LEN]
    # Notebook magics and shell escapes are not Python: tokenize only the rest.
    py = "\n".join("" if l.lstrip().startswith(("%", "!")) else l for l in src.splitlines()) + "\n"
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(py).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError) as e: return out + [(0, f"does not tokenize: {e}")]
    out += [(t.start[0], "`;` chains statements") for t in toks if t.type == tokenize.OP and t.string == ";"]
    return sorted(set(out))


def style_offenders(root=ROOT):
    "`file:line: reason` for every offence in `coldstart_nb/*.py` and in the code cells of `nbs/*.ipynb`."
    res = []
    for f in sorted((root / "coldstart_nb").glob("*.py")):
        if f.name == "_modidx.py": continue
        res += [f"{f.relative_to(root)}:{n}: {why}" for n, why in _offences(f.read_text())]
    for nb in sorted((root / "nbs").glob("*.ipynb")):
        for i, src in _cells(nb):
            res += [f"{nb.relative_to(root)}:cell {i}:{n}: {why}" for n, why in _offences(src)]
    return res


def test_offences_found():
    "The checker itself: a `;` in a string is not an offence, one between statements is, and so is a long line."
    assert _offences("x = 'a; b'\ny = 1  # c; d\n") == []
    assert _offences("x = 1; y = 2\n") == [(1, "`;` chains statements")]
    assert _offences("x = '" + "a" * 140 + "'\n") == [(1, "146 chars")]
    assert _offences("%time x = 1\n!ls; pwd\n") == []


def test_pyflakes_clean():
    files = [str(f) for f in sorted((ROOT / "coldstart_nb").glob("*.py")) if f.name != "_modidx.py"]
    r = subprocess.run([sys.executable, "-m", "pyflakes", *files], capture_output=True, text=True)
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr


def test_no_chained_statements_or_long_lines():
    bad = style_offenders()
    assert not bad, f"{len(bad)} offences (split `;` chains, wrap lines at {MAX_LEN}):\n" + "\n".join(bad)
