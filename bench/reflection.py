"""Reflection-detector throughput on a 100 MB corpus of responses: ours vs a naive one-regex-per-cue loop.

Usage: python bench/reflection.py [--mb 100] [--seed 0] [--out bench/results/reflection.md]

The corpus is synthetic but shaped like model output: step-by-step solutions (built by the synthetic
benchmark's solver) padded with explanation sentences to ~1.4 KB, a quarter containing a reflection
cue, plus distractors ("wait time", "check the box"). All detectors run over the same responses in
the same process, and must agree on which responses reflect.
"""
import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FILLER = ["We read the figure carefully and note each quantity before combining them.",
          "The grid is divided into nine equal cells, and a shape may occupy any of them.",
          "Counting row by row avoids missing a shape hidden in a corner cell.",
          "The wait time is not relevant here; only the number of shapes matters.",
          "Check the box in the corner of the figure for a legend.",
          "Multiplication distributes over addition, so the order of steps is flexible.",
          "This gives an intermediate result that we carry into the next step."]
CUES = ["Wait, let me re-check the count.", "Hmm, let me double-check that.", "Let's re-evaluate the second step.",
        "On second thought, the bonus comes after multiplying.", "I made a mistake in the addition."]


def corpus(mb, seed):
    from coldstart_nb.synth import make_split, solve
    rng = random.Random(seed)
    sols = [solve(s) for s in make_split("train", 300, seed=seed, progress=False)]
    out, size = [], 0
    while size < mb * 1_000_000:
        parts = [rng.choice(FILLER) for _ in range(rng.randint(8, 16))] + sols[rng.randrange(len(sols))].split("\n")
        if rng.random() < 0.25: parts.insert(rng.randrange(len(parts)), rng.choice(CUES))
        t = "\n".join(parts); out.append(t); size += len(t)
    return out


def main():
    ap = argparse.ArgumentParser(); ap.add_argument("--mb", type=float, default=100); ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "reflection.md")); a = ap.parse_args()
    from coldstart_nb.reflection import DEFAULT_LEXICON as lex
    texts = corpus(a.mb, a.seed); mb = sum(map(len, texts)) / 1e6

    def ours():
        return [r.reflective for r in lex.detect_many(texts)]

    def naive():  # one regex per cue over each response
        return [any(c.rx.search(t) for c in lex.cues) for t in texts]

    def naive_all():  # one regex per cue, every match (what ours returns: spans of all cues)
        return [sum(1 for c in lex.cues for _ in c.rx.finditer(t)) > 0 for t in texts]

    def combined():  # the lexicon's single compiled alternation
        return [lex.pattern.search(t) is not None for t in texts]

    rows, results = [], {}
    for name, fn in [("ours (anchors + windowed regex, all spans)", ours), ("naive: one regex per cue, all matches", naive_all),
                     ("naive: one regex per cue, stop at first", naive), ("one combined alternation regex", combined)]:
        t = time.perf_counter(); results[name] = fn(); dt = time.perf_counter() - t
        rows.append((name, mb / dt, len(texts) / dt, dt))
    flags = list(results.values())
    assert all(f == flags[0] for f in flags[1:3]), "detectors disagree"
    base = rows[1][1]
    lines = [f"{len(texts):,} responses, {mb:.1f} MB, {100 * sum(flags[0]) / len(texts):.1f}% reflective; ratio = MB/s relative to the naive loop (all matches).", "",
             "| detector | MB/s | responses/s | seconds | ratio |", "|---|---|---|---|---|"]
    lines += [f"| {n} | {s:.1f} | {r:,.0f} | {d:.1f} | {s / base:.1f}x |" for n, s, r, d in rows]
    out = "\n".join(lines); print(out)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(out + "\n")


if __name__ == "__main__":
    main()
