"""Math-Verify's own test cases (extracted into data/fixtures/grading/math_verify_cases.jsonl, see SOURCES.md):
default mode agrees with Math-Verify's expected verdict on >= 95% of all cases, and paper mode gives exactly the
verdict of the paper's reward (mathruler via EasyR1's accuracy function) on every case both answer."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("grading_cases", ROOT / "bench" / "grading_cases.py")
gc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gc)


def test_fixture_records_its_source():
    rows = gc.load_cases()
    assert len(rows) >= 250
    assert {r["source"] for r in rows} == {"huggingface/Math-Verify"} and {r["licence"] for r in rows} == {"Apache-2.0"}
    assert len({r["commit"] for r in rows}) == 1 and all(r["file"].startswith("tests/") and r["line"] > 0 for r in rows)
    assert {r["expected"] for r in rows} == {0, 1}


def test_agreement_per_mode():
    res = gc.run_cases(gc.load_cases(), timeout=5.0)
    text, d_ok, p_same, answered = gc.table(res)
    print(text)
    assert d_ok >= 0.95 * len(res), text
    assert answered >= 0.95 * len(res), text                      # the paper comparison is not vacuous
    misses = [(r["case"]["file"], r["case"]["line"], r["paper"], r["mathruler"]) for r in res
              if r["mathruler"] is not None and r["paper"].layer not in ("timeout", "error") and r["paper"].correct != r["mathruler"]]
    assert not misses, misses


def test_no_false_accepts_in_default_mode():
    """Issue 24: every case Math-Verify expects to be rejected is rejected in default mode; 'Answer $ \\n 9 \\n $' and
    'Answer \\( \\n 9 \\n \\)' (an inline math span broken by line breaks: Math-Verify finds no answer) were accepted."""
    cases = [c for c in gc.load_cases() if c["expected"] == 0]
    assert len(cases) >= 30
    res = gc.run_cases(cases, timeout=5.0, reference=False)
    accepted = [(r["case"]["file"], r["case"]["line"], r["case"]["pred"], r["default"].layer) for r in res if r["default"].correct]
    assert accepted == []
