"""Effective rank and Diff-eRank checked against the authors' own code (waltonfuture/Diff-eRank @ 34e58a5, Apache-2.0),
kept verbatim under data/fixtures/diff_erank/ (see SOURCES.md section 10): their functions run on fixed random inputs,
and their data-set script's `main` runs end to end on the tiny model's hidden states. Nothing of theirs is in the library."""
import ast
import contextlib
import copy
import importlib.util
import io
import math
import types

import pytest
import torch

from conftest import ROOT
from coldstart_nb.erank import (average_erank, dataset_erank, diff_erank, effective_rank, erank_entropy, erank_inputs,
                                erank_table, hidden_states, random_init)

FX = ROOT / "data" / "fixtures" / "diff_erank"
SHAPES = [(2, 8), (5, 64), (32, 300), (64, 5), (64, 64), (117, 64), (300, 32)]   # N < d, N = d and N > d
KINDS = ["gaussian", "rank3", "anisotropic"]


@pytest.fixture(scope="module")
def theirs_dataset():
    "Their `utils/diff_erank_dataset.py`, imported as a module (its work is under `__main__`; `normalize`, `cal_cov`, `compute`)."
    spec = importlib.util.spec_from_file_location("their_diff_erank_dataset", FX / "diff_erank_dataset.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def theirs_single():
    "Their `utils/diff_erank_single_sentence.py`: its imports and functions only (its module body downloads OPT-1.3b)."
    tree = ast.parse((FX / "diff_erank_single_sentence.py").read_text())
    tree.body = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom, ast.FunctionDef))]
    ns = {}
    exec(compile(tree, str(FX / "diff_erank_single_sentence.py"), "exec"), ns)
    return types.SimpleNamespace(**{k: ns[k] for k in ("normalize", "cal_cov", "cal_erank", "compute")})


def fixed_input(N, d, kind, seed):
    "A reproducible (N, d) float64 matrix: Gaussian, of rank 3, or with feature scales over 3 decades and an offset."
    g = torch.Generator().manual_seed(seed)
    R = torch.randn(N, d, generator=g, dtype=torch.float64)
    if kind == "rank3": R = torch.randn(N, 3, generator=g, dtype=torch.float64) @ torch.randn(3, d, generator=g, dtype=torch.float64)
    if kind == "anisotropic": R = R * torch.logspace(0, 3, d, dtype=torch.float64) + 5
    return R


def test_fixture_files_are_theirs_verbatim():
    "The fixture files are the blobs of their commit 34e58a5 (git blob ids recorded in SOURCES.md)."
    import hashlib
    blobs = {"LICENSE": "261eeb9e9f8b2b4b0d119366dda99c6fd7d35c64", "diff_erank_dataset.py": "b48e48da46a9a83eac7f8e302771de7abb9f635b",
             "diff_erank_single_sentence.py": "9a28ac132cbf6d429d06dbf2f71e2d3b93d6fe3f"}
    for name, sha in blobs.items():
        data = (FX / name).read_bytes()
        assert hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == sha, name
    assert "Apache License" in (FX / "LICENSE").read_text()


def test_reference_single_and_dataset(theirs_single, theirs_dataset):
    "Their single-sentence eRank and their data-set script's per-text entropy equal ours to 1e-6 on every shape and kind."
    worst = 0.0
    for k, (N, d) in enumerate(SHAPES):
        for j, kind in enumerate(KINDS):
            R = fixed_input(N, d, kind, seed=100 * k + j)
            worst = max(worst, abs(theirs_single.compute(R) - effective_rank(R)), abs(theirs_dataset.compute(R) - erank_entropy(R)))
    assert worst < 1e-6, worst
    print(f"max |ours - theirs| over {len(SHAPES) * len(KINDS)} inputs: {worst:.2e}")


def test_reference_float32_input(theirs_single):
    "On float32 input their code computes in float32; ours in float64 stays within their float32 noise."
    for k, (N, d) in enumerate(SHAPES):
        R = fixed_input(N, d, "gaussian", seed=7 + k).float()
        assert abs(theirs_single.compute(R) - effective_rank(R)) < 1e-3 * max(1.0, effective_rank(R))


def test_reference_dataset_average(theirs_dataset):
    "Their data-set average, exp(mean of `compute`), is `average_erank`."
    Rs = [fixed_input(N, d, kind, seed=k) for k, ((N, d), kind) in enumerate(zip(SHAPES, KINDS * 3))]
    theirs = math.exp(sum(theirs_dataset.compute(R) for R in Rs) / len(Rs))
    assert abs(theirs - average_erank(Rs)) < 1e-6


def test_properties():
    g = torch.Generator().manual_seed(3)
    R = torch.randn(80, 24, generator=g, dtype=torch.float64)
    e = effective_rank(R)
    assert abs(effective_rank(R * 123.0) - e) < 1e-9                                        # global scale
    assert abs(effective_rank(R + 50 * torch.randn(24, generator=g, dtype=torch.float64)) - e) < 1e-9   # shift of every token
    Q, _ = torch.linalg.qr(torch.randn(24, 24, generator=g, dtype=torch.float64))
    assert abs(effective_rank(R @ Q) - e) < 1e-9                                              # rotation of the features
    assert abs(effective_rank(R[torch.randperm(80, generator=g)]) - e) < 1e-9                 # token order
    # a different scale per token is not: centring comes first, and the mean moves
    s = torch.rand(80, 1, generator=g, dtype=torch.float64) + 0.5
    assert abs(effective_rank(R * s) - e) > 1e-3
    # identity-like data: d - 1 equal directions once centred; a large isotropic cloud: close to d
    for d in (4, 16, 64):
        assert abs(effective_rank(torch.eye(d)) - (d - 1)) < 1e-9
        assert abs(effective_rank(torch.eye(d) * 3 - 1) - (d - 1)) < 1e-9
    assert 60 < effective_rank(torch.randn(20000, 64, generator=g)) <= 64
    # bounds: 1 <= eRank <= min(N - 1, d), rank-k data at most k
    for N, d in [(2, 5), (3, 40), (40, 3), (17, 17), (200, 10)]:
        for kind in KINDS:
            e = effective_rank(fixed_input(N, d, kind, seed=N * d))
            assert 1 - 1e-9 <= e <= min(N - 1, d, 3 if kind == "rank3" else d) + 1e-9, (N, d, kind, e)
    with pytest.raises(ValueError, match="at least 2 rows"): erank_entropy(torch.randn(1, 4))
    with pytest.raises(ValueError, match="shape"): erank_entropy(torch.randn(3, 4, 5))


def test_zero_row_after_centring_changes_nothing():
    "A token equal to the mean is a zero row once centred: ours leaves it out (their code would divide by zero)."
    R = torch.tensor([[1.0, 0, 0], [-1.0, 0, 0], [0, 2.0, 0], [0, -2.0, 0], [0, 0, 0]], dtype=torch.float64)
    assert abs(effective_rank(R) - 2.0) < 1e-9


def tiny():
    from coldstart_nb.models import build_tiny_model
    from coldstart_nb.synth import make_split, solve
    train = make_split("train", 2, progress=False)
    model, proc = build_tiny_model([s.question for s in train] + [solve(s) for s in train], "tiny")
    return model, proc, train, make_split("test", 1, progress=False)[:4]


@pytest.fixture(scope="module")
def tiny_pair():
    "The tiny random-init model and a copy trained briefly (text only) with its processor and items."
    model, proc, train, items = tiny()
    trained = copy.deepcopy(model).train()
    opt = torch.optim.AdamW(trained.parameters(), lr=3e-3)
    torch.manual_seed(0)
    from coldstart_nb.synth import solve
    texts = [s.question + " " + solve(s) for s in train]
    for step in range(10):
        ids = proc.tokenizer(texts[step % len(texts)], return_tensors="pt").input_ids
        trained(input_ids=ids, labels=ids).loss.backward()
        opt.step()
        opt.zero_grad()
    return model, trained.eval(), proc, texts, items


def test_reference_their_dataset_main_on_the_tiny_model(theirs_dataset, tiny_pair, monkeypatch):
    """Their `diff_erank_dataset.main` end to end (tokenise, last hidden state per text, entropies, exp of means, untrained
    minus trained): its model loaders, data reader and `.cuda()` are replaced by the tiny float64 models and our texts."""
    model, trained, proc, texts, _ = tiny_pair
    u64, t64 = copy.deepcopy(model).double(), copy.deepcopy(trained).double()

    class Ids:   # their loop calls `id.cuda()`: here a no-op
        def __init__(self, t): self.t = t
        def cuda(self): return self.t

    class Backbone:   # their AutoModel: the backbone, `[0]` = last_hidden_state
        def __init__(self, m): self.m = m
        def cuda(self): return self
        def to(self, *a): return self
        def __call__(self, ids): return (self.m.model(input_ids=ids).last_hidden_state,)

    tok = proc.tokenizer
    mod = theirs_dataset
    monkeypatch.setattr(mod, "AutoTokenizer", types.SimpleNamespace(
        from_pretrained=lambda p: lambda text, **kw: types.SimpleNamespace(input_ids=Ids(tok(text, **kw).input_ids))))
    monkeypatch.setattr(mod, "AutoConfig", types.SimpleNamespace(from_pretrained=lambda p: None))
    monkeypatch.setattr(mod, "AutoModel", types.SimpleNamespace(from_pretrained=lambda p: Backbone(t64), from_config=lambda c: Backbone(u64)))
    parts = iter([texts, [], [], []])   # their 'rlhf' branch reads four files through jsonl_to_list
    monkeypatch.setattr(mod, "jsonl_to_list", lambda f: next(parts))
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()), torch.no_grad():
        mod.main(types.SimpleNamespace(dataset="rlhf"))
    theirs = float(out.getvalue().split()[-1])
    ours = diff_erank(u64, t64, proc, texts)
    assert list(ours) == [2] and abs(theirs - ours[2]) < 1e-6, (theirs, ours)
    print(f"their main: {theirs!r}, ours: {ours[2]!r}, |diff| {abs(theirs - ours[2]):.2e}")
    assert abs(theirs) > 1e-3   # a real difference, not two zeros


def test_model_level_on_the_tiny_model(tiny_pair):
    model, trained, proc, texts, items = tiny_pair
    inp = erank_inputs(proc, items[0])
    assert "pixel_values" in inp and inp["input_ids"].shape[0] == 1
    hs = hidden_states(model, inp, layers="all")
    assert list(hs) == [0, 1, 2] and all(R.shape == (inp["input_ids"].shape[1], 64) for R in hs.values())
    with torch.no_grad(): assert torch.equal(hs[2], model.model(**inp).last_hidden_state[0])
    n_img = int((inp["input_ids"] == model.config.image_token_id).sum())
    assert n_img > 0 and hidden_states(model, inp, tokens="image")[2].shape[0] == n_img
    er = dataset_erank(model, proc, items, layers="all")
    assert set(er) == {0, 1, 2} and all(1 <= v <= 64 for v in er.values())
    d = diff_erank(model, trained, proc, items, layers=[-1, 0])
    assert set(d) == {0, 2} and d[2] != 0
    assert diff_erank(model, model, proc, items) == {2: 0.0}
    rows = erank_table({"trained": trained}, proc, items)           # reference: random_init of the first model
    again = random_init(trained)
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(), model.state_dict().values()))
    assert [r["model"] for r in rows] == ["untrained", "trained"] and abs(rows[-1]["diff_erank"] - diff_erank(model, trained, proc, items)[2]) < 1e-9
