"""Official scores vs ours: each benchmark's own scorer, run on the authors' released outputs, beside our `official`
protocol (coldstart_nb.official) and our `default` grader, with item-by-item verdict mismatches.

Usage:
  python bench/official.py --mathvista DIR --mathv DIR --wemath DIR --mathverse DIR \
      [--python PY] [--no-default] [--out bench/results/official.md]

DIR is a checkout of the authors' repository (lupantech/MathVista, mathllm/MATH-V, We-Math/We-Math,
ZrrSkywalker/MathVerse) or a bare git directory of one (its HEAD is read with `git show`); a missing
benchmark is skipped. Nothing is fetched. data/fixtures/real/<Name> slices work too (smaller numbers).

How the official scorers run: each script is copied with the files it reads into a fresh temporary
folder and run there with `--python` (an interpreter with the scripts' own dependencies: levenshtein,
latex2sympy2, fire, pandas, rich, tqdm; e.g. `python -m venv /tmp/offvenv && /tmp/offvenv/bin/pip install
levenshtein latex2sympy2 fire pandas rich tqdm`). Their non-runnable parts are stubbed in that folder:
MathVista's `datasets.load_dataset` (hub) reads data/testmini.json, `cv2`/`word2number` (imported by its
utilities, unused by scoring) are empty modules; MathVerse's `openai` is an empty module and
`score_answer_s2.py` runs with `--quick_match` (no GPT judge), with `category` set from each row's `metadata`
(the script reads `category`, the data has `metadata`). GPT extractions are not re-run: MathVista's
released outputs carry them. MathVista's breakdowns group by the metadata inside the output file, and the released
outputs carry an older version of it (grade 'daily life' for today's 'not applicable', some skills differ), so
our side uses the output file's metadata too, as the script does. Our code never imports theirs: it reads only
their outputs (score files, result files, stdout).
"""
import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coldstart_nb.data import SOURCES  # noqa: E402
from coldstart_nb.official import github_rows, gold_problems, official_records, score_official  # noqa: E402


class Repo:
    "A checkout folder or a bare git directory; files are read from the working tree or from HEAD."
    def __init__(self, path):
        self.path = Path(path)
        self.bare = (self.path / "HEAD").exists() and (self.path / "objects").exists()
        if not self.bare and not self.path.is_dir(): raise FileNotFoundError(f"{path}: not a folder or a git directory")

    def has(self, rel):
        if not self.bare: return (self.path / rel).exists()
        return subprocess.run(["git", "--git-dir", str(self.path), "cat-file", "-e", f"HEAD:{rel}"], capture_output=True).returncode == 0

    def text(self, rel):
        if not self.bare: return (self.path / rel).read_text(encoding="utf-8")
        git = ["git", "--git-dir", str(self.path), "show", f"HEAD:{rel}"]
        return subprocess.run(git, capture_output=True, text=True, check=True).stdout

    def copy(self, rel, dst_root):
        dst = Path(dst_root) / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(self.text(rel), encoding="utf-8")
        return dst

    def commit(self):
        git = ["git", "--git-dir", str(self.path)] if self.bare else ["git", "-C", str(self.path)]
        r = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        return r.stdout.strip() or "?"


def run_py(py, args, cwd, timeout=600):
    "Run an official script; returns (stdout, error message or None)."
    try:
        r = subprocess.run([py, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "", f"{type(e).__name__}: {e}"
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["?"])[-1]
        return r.stdout, f"exit {r.returncode}: {last[:160]}"
    return r.stdout, None


def missing(repo, files):
    "None when the repo has every file, else a reason to print (e.g. a fixture slice holds no scripts)."
    lack = [f for f in files if not repo.has(f)]
    return f"no {', '.join(lack)} in {repo.path}" if lack else None


def pct(c, n): return round(100 * c / n, 2) if n else None


def samples_in(name, folder, file=None):
    conv = SOURCES[name].convert
    out = {}
    bad = []
    for i, row in enumerate(github_rows(name, folder, file)):
        s = conv(row, i)
        out[s.id] = s
        bad += gold_problems(name, row, s)
    return out, bad


def default_verdicts(samples_resp):
    "Our default grader (boxed-first) on (sample, response) pairs."
    from coldstart_nb.grading import grade
    out = []
    for s, resp in samples_resp:
        prec = s.metadata.get("precision") if s.benchmark == "mathvista" and s.metadata.get("answer_type") == "float" else None
        out.append(grade(resp, s.answer, s.choices, s.answer_type, precision=prec).correct)
    return out


def record(s, resp):
    return {"id": s.id, "benchmark": s.benchmark, "response": resp, "answer": s.answer, "choices": s.choices,
            "metadata": s.metadata, "correct": None}


def with_folder(repo, files):
    "The repo's files under a temporary folder (for our readers, which take a folder)."
    tmp = Path(tempfile.mkdtemp(prefix="official-src-"))
    for f in files:
        if repo.has(f): repo.copy(f, tmp)
    return tmp


# ---------------------------------------------------------------- MathVista
def run_mathvista_script(repo, py, outs):
    "Their calculate_score.py, recomputing predictions from the released extractions (--rerun): (scores, error)."
    err = missing(repo, ("evaluation/calculate_score.py", "utilities.py"))
    if err: return None, err
    with tempfile.TemporaryDirectory() as t:
        for f in ("evaluation/calculate_score.py", "utilities.py", "data/testmini.json"): repo.copy(f, t)
        shutil.copy(Path(t) / "evaluation/calculate_score.py", Path(t) / "calculate_score.py")
        (Path(t) / "cv2.py").write_text("")
        (Path(t) / "word2number.py").write_text("w2n = None\n")
        (Path(t) / "datasets.py").write_text("import json\ndef load_dataset(name, split=None):\n"
                                             "    return list(json.load(open('data/testmini.json')).values())\n")
        (Path(t) / "run").mkdir()
        (Path(t) / "run" / "out.json").write_text(json.dumps(outs))
        args = ["calculate_score.py", "--output_dir", "run", "--output_file", "out.json", "--score_file", "scores.json", "--rerun"]
        _, err = run_py(py, args, t)
        return (None, err) if err else (json.loads((Path(t) / "run/scores.json").read_text()), None)


def same_breakdowns(theirs, ours):
    "Do two score dicts agree on correct/total for every group? Returns (agree, groups compared)."
    n, ok = 0, True
    for key, groups in theirs.items():
        if key == "average": continue
        for g, v in groups.items():
            o = ours.get(key, {}).get(str(g))
            n += 1
            ok &= o is not None and (o["correct"], o["total"]) == (int(v["correct"]), int(v["total"]))
    return ok, n


def mathvista(repo, py, do_default, rows_out):
    folder = with_folder(repo, ["data/testmini.json", "data/query.json"])
    samples, bad = samples_in("mathvista", folder)
    for model in ("gpt4", "bard"):
        rel, srel = f"results/{model}/output_{model}.json", f"results/{model}/scores_{model}.json"
        if not repo.has(rel): continue
        outs = json.loads(repo.text(rel))
        released = json.loads(repo.text(srel))["average"]["accuracy"] if repo.has(srel) else "-"
        recs = [record(samples[f"mathvista-{p}"], o["response"]) for p, o in outs.items()]
        for r, o in zip(recs, outs.values()):   # the script groups by the output file's own metadata (an older version: see below)
            r["metadata"] = {**r["metadata"], **(o.get("metadata") or {})}
        ours = official_records(recs, extractions={f"mathvista-{p}": o["extraction"] for p, o in outs.items()})
        sc = score_official(ours)["mathvista"]
        mism = sum(r["correct"] != o["true_false"] for r, o in zip(ours, outs.values()))
        theirs, err = run_mathvista_script(repo, py, outs)
        if theirs:
            agree, n = same_breakdowns(theirs, sc)
            acc = pct(theirs["average"]["correct"], theirs["average"]["total"])
            run = f"{acc} (breakdowns: {n} groups, {'all equal' if agree else 'DIFFER'})"
        else: run = f"not run ({err})"
        pairs = [(samples[f"mathvista-{p}"], o["response"]) for p, o in outs.items()]
        dflt = pct(sum(default_verdicts(pairs)), len(outs)) if do_default else None
        rows_out.append(("MathVista", model, len(outs), released, run, sc["average"]["accuracy"], mism, dflt))
    return len(samples), bad


# ---------------------------------------------------------------- MATH-V
MATHV_OUTPUTS = ("outputs/closed-source/Gemini/Gemini-Pro-CoT.jsonl", "outputs/closed-source/Qwen/Qwen-VL-Max.jsonl")


def run_mathv_script(repo, py, present):
    "Their evaluate.py (it walks ./outputs, re-extracts, writes <file>_result.json): ({file: (results, verdicts)}, error)."
    err = missing(repo, ("evaluation/evaluate.py", "evaluation/utils.py"))
    if err: return {}, err
    with tempfile.TemporaryDirectory() as t:
        for f in ("evaluation/evaluate.py", "evaluation/utils.py", "data/test.jsonl", *present): repo.copy(f, t)
        for f in ("evaluate.py", "utils.py"): shutil.copy(Path(t) / "evaluation" / f, Path(t) / f)
        _, err = run_py(py, ["evaluate.py"], t)
        if err: return {}, err
        return {f: (json.loads((Path(t) / f.replace(".jsonl", "_result.json")).read_text()),
                    [json.loads(x)["correct"] for x in (Path(t) / f).read_text().splitlines() if x.strip()]) for f in present}, None


def mathv(repo, py, do_default, rows_out):
    folder = with_folder(repo, ["data/test.jsonl", "data/testmini.jsonl"])
    samples, bad = samples_in("mathvision", folder, "data/test.jsonl")
    mini, bad_mini = samples_in("mathvision", folder, "data/testmini.jsonl") if (folder / "data/testmini.jsonl").exists() else ({}, [])
    present = [f for f in MATHV_OUTPUTS if repo.has(f)]
    theirs, err = run_mathv_script(repo, py, present)
    for f in present:
        outs = [json.loads(x) for x in repo.text(f).splitlines() if x.strip()]
        rrel = f.replace(".jsonl", "_result.json")
        released = json.loads(repo.text(rrel))["-all"].split("=")[-1] if repo.has(rrel) else "-"
        ours = official_records([record(samples[f"mathvision-{o['id']}"], o["response"]) for o in outs])
        sc = score_official(ours)["mathvision"]
        mism = sum(r["correct"] != o["correct"] for r, o in zip(ours, outs))
        if f in theirs:
            res, verdicts = theirs[f]
            fmt = lambda v: f"{v['correct']}/{v['total']}"
            agree = all(k in sc and res[k].split("=")[0] == fmt(sc[k]) for k in res)
            run = (f"{res['-all'].split('=')[-1]} ({sum(r['correct'] != c for r, c in zip(ours, verdicts))} items differ from ours; "
                   f"breakdowns: {len(res)} groups, {'all equal' if agree else 'DIFFER'})")
        else: run = f"not run ({err})"
        pairs = [(samples[f"mathvision-{o['id']}"], o["response"]) for o in outs]
        dflt = pct(sum(default_verdicts(pairs)), len(outs)) if do_default else None
        rows_out.append(("MATH-V", Path(f).stem, len(outs), released, run, f"{sc['-all']['accuracy']}%", mism, dflt))
    return len(samples), len(mini), bad + bad_mini


# ---------------------------------------------------------------- We-Math
def wemath_patterns(rows, seed=0):
    "Prediction patterns: a letter per row."
    rng = random.Random(seed)
    letters = "ABCDEFG"
    n_opt = lambda r: max(2, len(re.findall(r"(?:^|;)\s*[A-H]\s*[.:．]", r["option"])))
    wrong = lambda r: next(x for x in letters if x != r["answer"])
    return {
        "all gold": [r["answer"] for r in rows],
        "always A": ["A" for r in rows],
        "random (seed 0)": [rng.choice(letters[:n_opt(r)]) for r in rows],
        "steps right, composite wrong": [wrong(r) if r["key"].endswith("multi") else r["answer"] for r in rows],
        "composite right, steps wrong": [r["answer"] if r["key"].endswith("multi") else wrong(r) for r in rows],
        "all wrong": [wrong(r) for r in rows],
    }


def run_wemath_scripts(repo, py, rows, resp, with_nodes):
    "Their four_dimensional_metrics.py and accuracy.py on one prediction file: ((percentages, error), (percentages, error))."
    err = missing(repo, ("evaluation/four_dimensional_metrics.py", "evaluation/accuracy.py"))
    if err: return ([], err), ([], err)
    with tempfile.TemporaryDirectory() as t:
        for f in ("evaluation/four_dimensional_metrics.py", "evaluation/accuracy.py"): repo.copy(f, t)
        (Path(t) / "out.json").write_text(json.dumps([{**r, "response": x} for r, x in zip(rows, resp)]))
        out4, err4 = run_py(py, ["evaluation/four_dimensional_metrics.py", "--model_name", "m", "--output_json", "out.json"], t)
        args = ["evaluation/accuracy.py", "--model_name", "m", "--output_json", "out.json"]
        if with_nodes:
            repo.copy("data/knowledge_structure_nodes.json", t)
            args += ["--knowledge_structure_nodes_path", "data/knowledge_structure_nodes.json"]
        outa, erra = run_py(py, args, t)
    last = lambda s: (s.strip().splitlines() or [""])[-1]
    return (re.findall(r"(\d+\.\d+)%", last(out4)), err4), (re.findall(r"(\d+\.\d+)%", last(outa)), erra)


def wemath(repo, py, rows_out):
    folder = with_folder(repo, ["data/testmini.json"])
    samples, bad = samples_in("wemath", folder)
    rows = json.loads(repo.text("data/testmini.json"))
    nodes = json.loads(repo.text("data/knowledge_structure_nodes.json")) if repo.has("data/knowledge_structure_nodes.json") else None
    for name, answers in wemath_patterns(rows).items():
        resp = [f"<Thought process>: ... <Answer>: {a}" for a in answers]
        recs = [record(samples[f"wemath-{r['question number']}"], x) for r, x in zip(rows, resp)]
        sc = score_official(official_records(recs), nodes)["wemath"]
        fd = sc["four_dim"]
        (p4, err4), (pa, erra) = run_wemath_scripts(repo, py, rows, resp, nodes is not None)
        run = f"strict {p4[0]}, loose {p4[5]}" if not err4 and len(p4) >= 6 else f"4-D not run ({err4})"
        run += f"; S1/S2/S3 {'/'.join(pa[:3])}" if not erra and len(pa) >= 3 else f"; accuracy.py not run ({erra})"
        steps = "/".join(str(sc[k]["accuracy"]) for k in ("S1", "S2", "S3"))
        ours = f"strict {fd.get('score_strict')}, loose {fd.get('score_loose')}; S1/S2/S3 {steps}"
        if not erra and len(pa) > 3 and "domain" in sc:
            agree = sorted(float(x) for x in pa[3:]) == sorted(sc["domain"].values())
            run += f"; {len(pa) - 3} domains"
            ours += f"; {len(sc['domain'])} domains, {'all equal' if agree else 'DIFFER'}"
        rows_out.append(("We-Math", name, len(rows), "-", run, ours, "-", None))
    return len(samples), bad


# ---------------------------------------------------------------- MathVerse
def run_mathverse_script(repo, py, rows, ext):
    "Their score_answer_s2.py --quick_match on given extractions: (printed total accuracy, per-version lines, error)."
    err = missing(repo, ("evaluation/score_answer_s2.py", "evaluation/utils.py", "evaluation/prompts.py"))
    if err: return None, err
    with tempfile.TemporaryDirectory() as t:
        for f in ("evaluation/score_answer_s2.py", "evaluation/utils.py", "evaluation/prompts.py"): repo.copy(f, t)
        (Path(t) / "evaluation/openai.py").write_text("class OpenAI:\n    pass\napi_key = None\n")
        data = [{**r, "extraction": e, "category": r["metadata"]} for r, e in zip(rows, ext)]
        (Path(t) / "ext.json").write_text(json.dumps(data))
        args = ["evaluation/score_answer_s2.py", "--answer_extraction_file", "ext.json", "--save_file", "res/s.json", "--quick_match",
                "--save_every", "100000"]
        out, err = run_py(py, args, t)
    return (None, err) if err else (out, None)


def mathverse(repo, py, rows_out):
    folder = with_folder(repo, ["data/testmini_text_only.json", "output_templates/output_testmini.json"])
    samples, bad = samples_in("mathverse", folder, "data/testmini_text_only.json")
    tpl, bad_tpl = samples_in("mathverse", folder, "output_templates/output_testmini.json") \
        if (folder / "output_templates/output_testmini.json").exists() else ({}, [])
    rows = json.loads(repo.text("data/testmini_text_only.json"))
    rng = random.Random(0)
    patterns = {"gold": [r["answer"] for r in rows], "always A": ["A"] * len(rows),
                "random letter (seed 0)": [rng.choice("ABCD") for _ in rows]}
    for name, ext in patterns.items():
        recs = [record(samples[f"mathverse-{r['sample_index']}"], "") for r in rows]
        given = {f"mathverse-{r['sample_index']}": e for r, e in zip(rows, ext)}
        sc = score_official(official_records(recs, extractions=given))["mathverse"]
        out, err = run_mathverse_script(repo, py, rows, ext)
        if out:   # their printout: '<subject>-<subfield> Acc: 0.123', '<subject> Acc: ...', 'Total Acc: ...' (3 decimals)
            accs = dict(re.findall(r"^(.+?) Acc: (\d\.\d+)", out, re.M))
            ours_acc = {**{k: v["accuracy"] for k, v in sc["subfield"].items()}, **{k: v["accuracy"] for k, v in sc["subject"].items()}}
            agree = all(k in accs and abs(float(accs[k]) * 100 - v) <= 0.05 + 1e-9 for k, v in ours_acc.items())
            verdict = "all equal" if agree else "DIFFER"
            run = f"{100 * float(accs['Total']):.1f} (subject/subfield: {len(ours_acc)} groups, {verdict} at 3 decimals)"
        else: run = f"not run ({err})"
        rows_out.append(("MathVerse (text only)", f"extraction = {name}", len(rows), "-", run, sc["total"]["accuracy"], "-", None))
    return len(samples), len(tpl), bad + bad_tpl


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for b in ("mathvista", "mathv", "wemath", "mathverse"): ap.add_argument(f"--{b}", help="checkout or bare git dir")
    ap.add_argument("--python", default=sys.executable, help="interpreter for the official scripts (their dependencies)")
    ap.add_argument("--no-default", action="store_true", help="skip our default grader (the slow column)")
    ap.add_argument("--out", default=None, help="also write the Markdown report here")
    a = ap.parse_args()
    t0 = time.time()
    rows, counts, bad = [], [], []
    sources = [f"{b}: {Path(d).resolve()} @ {Repo(d).commit()}" for b, d in
               (("MathVista", a.mathvista), ("MATH-V", a.mathv), ("We-Math", a.wemath), ("MathVerse", a.mathverse)) if d]
    if a.mathvista:
        n, b = mathvista(Repo(a.mathvista), a.python, not a.no_default, rows)
        counts.append(f"MathVista data/testmini.json: {n}")
        bad += b
    if a.mathv:
        n, m, b = mathv(Repo(a.mathv), a.python, not a.no_default, rows)
        counts += [f"MATH-V data/test.jsonl: {n}", f"MATH-V data/testmini.jsonl: {m}"]
        bad += b
    if a.wemath:
        n, b = wemath(Repo(a.wemath), a.python, rows)
        counts.append(f"We-Math data/testmini.json: {n}")
        bad += b
    if a.mathverse:
        n, m, b = mathverse(Repo(a.mathverse), a.python, rows)
        counts += [f"MathVerse data/testmini_text_only.json: {n}", f"MathVerse output_templates/output_testmini.json: {m}"]
        bad += b
    head = ("| benchmark | outputs | items | released score | official script, run here | ours: official protocol "
            "| our verdicts != released | ours: default grader on the responses |")
    lines = [head, "|" + "---|" * 8]
    lines += ["| " + " | ".join("-" if v is None else str(v) for v in r) + " |" for r in rows]
    lines += ["", "Rows converted (all, none skipped): " + "; ".join(counts), f"Gold check problems: {len(bad)}"]
    lines += [f"  {p}" for p in bad[:10]]
    lines += ["", "Command: python bench/official.py " + " ".join(sys.argv[1:]), "Sources: " + "; ".join(sources),
              f"Official scripts run with: {a.python}. Wall time {time.time() - t0:.0f} s."]
    text = "\n".join(lines)
    print(text)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
