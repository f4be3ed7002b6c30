"""Every in-process step of the grader is linear in the length of untrusted text (issue 11, defect 1).

No wall-clock assertion: each step's cost is measured in CPU time of the calling thread (`time.thread_time`), which
another process's load does not inflate, against a budget about 100x above the measured cost; and the growth from
size n to 8n must stay far below quadratic (ratio < 32, where linear gives ~8 and quadratic 64). Everything a
general parser reads runs in the worker, whose budget is tested in test_grading_load.py."""
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mathruler.grader import extract_boxed_content

from coldstart_nb.core import find_last_boxed
from coldstart_nb.grading import GradeConfig, extract_answer, grade, normalize, strip_tag_spaces, to_letter, to_number

CH = ["30°", "60°", "a square", "1 m"]
STEPS = {
    "extract_answer": lambda s: extract_answer(s),
    "extract_answer(choices)": lambda s: extract_answer(s, CH, last_number=True),
    "normalize": normalize,
    "to_number": lambda s: to_number(normalize(s)),
    "to_letter": lambda s: to_letter(s, CH),
    "strip_tag_spaces": strip_tag_spaces,
    "find_last_boxed": find_last_boxed,
    "mathruler.extract_boxed_content": extract_boxed_content,
    "grade(in-process only)": lambda s: grade(s, "1 m", cfg=GradeConfig(symbolic=False)),
    "grade(choice, in-process only)": lambda s: grade(s, "B", CH, "choice", cfg=GradeConfig(symbolic=False)),
}
ATOMS = [" ", "  ", "\n", "a", "m", " m", "cm", "x", "1", "9", ",", ".", ". ", "answer", "answer is", "Answer:", "final answer", "<answer>",
         "</answer>", "\\boxed{", "\\boxed", "{", "}", "$", "(", "A", "(A", "B)", "\\text{", "\\frac{", "^{2}", "^", "/", "<", ">",
         "**", "option", "=", ":", "°", "%", "\\,", "~", "é", "\x00"]
FAMILIES = {  # the defects' inputs, scaled: size -> text
    "answer is + spaces + letters": lambda n: "answer is" + " " * n + "a" * n,
    "boxed units": lambda n: "\\boxed{1" + " m" * n + " x}",
    "units": lambda n: "1" + " m" * n,
    "answer: repeated": lambda n: "answer:" * n,
    "open boxes": lambda n: "\\boxed{" * n,
    "spaces before a tag": lambda n: " " * n + "x",
    "options": lambda n: "(A" * n,
    "answer tags": lambda n: "<answer>" * n,
}


def cpu(fn, s, reps=1):
    t = time.thread_time()
    for _ in range(reps): fn(s)
    return (time.thread_time() - t) / reps


def budget(n):  # seconds of CPU for one step on n characters: ~100x what the steps take here
    return 0.5 + 5e-6 * n


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(pattern=st.lists(st.sampled_from(ATOMS), min_size=1, max_size=12).map("".join),
       size=st.integers(min_value=1, max_value=100_000), tail=st.text(max_size=20))
def test_random_and_adversarial_strings_up_to_100kb(pattern, size, tail):
    s = (pattern * (size // len(pattern) + 1))[:size] + tail
    for name, fn in STEPS.items():
        used = cpu(fn, s)
        assert used < budget(len(s)), (name, len(s), pattern, used)


def test_defect_inputs_each_step():
    for fam, make in FAMILIES.items():
        s = make(50_000)[:100_000]
        for name, fn in STEPS.items():
            used = cpu(fn, s)
            assert used < budget(len(s)), (fam, name, used)


def test_growth_is_not_superlinear():
    # CPU time at 8x the size, over CPU time at 1x: ~8 when linear, 64 when quadratic; sizes stay within the
    # tail the steps read (4,000 characters) so that a bounded but quadratic step would still show
    for fam, make in FAMILIES.items():
        for name, fn in STEPS.items():
            small, big = make(60), make(480)
            reps = 50
            t_small = min(cpu(fn, small, reps) for _ in range(3))
            t_big = min(cpu(fn, big, reps) for _ in range(3))
            assert t_big < 32 * t_small + 2e-4, (fam, name, t_small, t_big)


def test_strip_tag_spaces_is_easyr1s_substitution():
    import re
    from hypothesis import given as g
    @settings(max_examples=300, deadline=None)
    @g(st.text(alphabet=" \t\n<>/ab\u3000\x0b", max_size=40))
    def same(s):
        assert strip_tag_spaces(s) == re.sub(r"\s*(<|>|/)\s*", r"\1", s)
    same()
