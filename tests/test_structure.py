"""The library's shape: no import cycles between its modules (function-level imports included), no private name used
across modules, and `stages`/`cli` at the top of the graph, imported by no library module."""
import ast

import pytest

from conftest import ROOT

PKG = ROOT / "coldstart_nb"
MODULES = {p.stem: p for p in sorted(PKG.glob("*.py")) if p.stem not in ("__init__", "_modidx")}


def imports(path):
    "(module, names) of every `coldstart_nb` import in a file, at any depth: `from .x import a` and `from coldstart_nb.x import a`."
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level == 1: out.append((mod, [a.name for a in node.names]))
            elif mod.startswith("coldstart_nb."): out.append((mod.split(".", 1)[1], [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name.split(".", 1)[1], []) for a in node.names if a.name.startswith("coldstart_nb.")]
    return out


def graph():
    return {m: {t for t, _ in imports(p) if t in MODULES and t != m} for m, p in MODULES.items()}


def test_no_import_cycles():
    g, cycles = graph(), []
    state = {}

    def visit(m, path):
        state[m] = "open"
        for t in sorted(g[m]):
            if state.get(t) == "open": cycles.append(path[path.index(t):] + [t])
            elif t not in state: visit(t, path + [t])
        state[m] = "done"
    for m in sorted(g):
        if m not in state: visit(m, [m])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("top", ["stages", "pipeline", "cli"])
def test_orchestration_sits_at_the_top(top):
    users = sorted(m for m, deps in graph().items() if top in deps and m not in ("stages", "pipeline", "cli"))
    assert not users, f"library modules import {top}: {users}"


def test_no_private_names_across_modules():
    bad = []
    for m, p in MODULES.items():
        for mod, names in imports(p):
            bad += [f"{m} imports {mod}.{n}" for n in names if n.startswith("_")]
        tree = ast.parse(p.read_text())
        aliases = {a.asname or a.name.split(".")[-1] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
                   if a.name.startswith("coldstart_nb.")}
        bad += [f"{m} uses {n.value.id}.{n.attr}" for n in ast.walk(tree)
                if isinstance(n, ast.Attribute) and n.attr.startswith("_") and not n.attr.startswith("__")
                and isinstance(n.value, ast.Name) and n.value.id in aliases]
    assert not bad, "\n".join(bad)
