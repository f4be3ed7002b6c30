"""Extraction of what models really write (issue 10 item 6, issue 11 defect 4): bare answers, We-Math's
`<Answer>: C`, `\\boxed{\\text{(A)}}` with text options, the 'Final Answer:' line, several boxes as a set,
thousands separators and decimal commas, option letters inside sentences, math-verify's extraction fallback."""
import pytest

from coldstart_nb.grading import GradeConfig, extract_answer, grade, normalize

CH4 = ["a circle", "a square", "a triangle", "a hexagon"]


@pytest.mark.parametrize("resp,gold,choices,atype", [
    ("60", "60", None, None),                                          # MATH-V / MathVista bare answers
    ("  60.\n", "60", None, None),
    ("A", "A", ["1", "2"], "choice"),
    ("(C)", "C", CH4, "choice"),
    ("\\boxed{\\text{(A)}}", "A", CH4, "choice"),                       # text options, letter in \text{}
    ("\\boxed{\\text{A}}", "A", CH4, "choice"),
    ("<Answer>: C", "C", CH4, "choice"),                               # We-Math's official response format
    ("Reasoning...\n<Answer>: B", "B", CH4, "choice"),
    ("A. Because B is not valid", "A", CH4, "choice"),                  # option letter inside a sentence
    ("Final Answer: The final answer is 7.78. I hope it is correct.", "7.78", None, None),
    ("\\boxed{255} in the middle. Final Answer: The final answer is $10,455$. I hope it is correct.", "10455", None, None),
    ("\\boxed{1} and \\boxed{2} and \\boxed{3}", "\\{1,2,3\\}", None, None),
    ("the total is 1 000", "1000", None, None),
    ("\\boxed{0,111}", "0.111", None, None),
    ("\\boxed{1000,99}", "1000.99", None, None),
    ("Therefore $x \\geq 5$ is the solution.", "$x \\geq 5$", None, None),  # math-verify's own extraction
])
def test_extracted_and_correct(resp, gold, choices, atype):
    v = grade(resp, gold, choices, atype)
    assert v.correct, v


@pytest.mark.parametrize("resp,gold,choices,atype", [
    ("61", "60", None, None),
    ("B", "A", ["1", "2"], "choice"),
    ("\\boxed{\\text{(B)}}", "A", CH4, "choice"),
    ("<Answer>: D", "C", CH4, "choice"),
    ("\\boxed{3} wait, no: \\boxed{4}", "3", None, None),              # a correction is not a set
    ("7,425", "7.425", None, None),                                    # a thousands separator, not a decimal comma
    ("The answer is 5. Earlier I computed 7 and 9.", "7", None, None),  # the fallback reads our sentence, not the whole text
    ("$4\\sqrt{2}$", "$4$", None, None),
])
def test_extracted_and_wrong(resp, gold, choices, atype):
    v = grade(resp, gold, choices, atype)
    assert not v.correct and v.layer != "error", v


def test_bare_only_when_the_response_is_the_answer():
    assert extract_answer("60") == ("60", "bare")
    assert extract_answer("I think there are 60 of them")[1] != "bare"
    assert extract_answer("x" * 41)[1] != "bare"


def test_separators():
    assert normalize("1 000") == normalize("1,000") == "1000"
    assert normalize("0,111") == "0.111" and normalize("7,425,000") == "7425000"


def test_paper_mode_keeps_only_the_last_box():
    # the paper's reward reads the last \boxed{} and nothing else: none of the default-mode extras apply
    cfg = GradeConfig(mode="paper")
    assert not grade("<Answer>: C", "C", cfg=cfg).correct
    assert not grade("60", "60", cfg=cfg).correct
    assert grade("\\boxed{60}", "60", cfg=cfg).correct
