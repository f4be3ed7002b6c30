"""Our paired statistics against references someone else wrote: scipy's exact binomial test (McNemar's exact
form is a two-sided binomial test on the discordant pairs) and OpenAI human-eval's pass@k estimator formula,
here recomputed with exact binomial coefficients."""
import math

import numpy as np
import pytest

from coldstart_nb.stats import mcnemar, paired_bootstrap, pass_at_k

scipy_stats = pytest.importorskip("scipy.stats")


@pytest.mark.parametrize("seed", range(20))
def test_mcnemar_equals_scipy_binomtest(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    a, b = rng.random(n) < rng.random(), rng.random(n) < rng.random()
    m = mcnemar(a, b)
    disc = m["only_a"] + m["only_b"]
    ref = 1.0 if disc == 0 else scipy_stats.binomtest(m["only_a"], disc, 0.5).pvalue
    assert m["p"] == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_pass_at_k_equals_the_binomial_formula():
    for n in range(1, 25):
        for c in range(n + 1):
            for k in range(1, n + 1):
                ref = 1 - math.comb(n - c, k) / math.comb(n, k)
                assert pass_at_k(n, c, k) == pytest.approx(ref, abs=1e-12), (n, c, k)


def test_paired_interval_is_narrower_than_unpaired():
    "Pairing removes the items' shared difficulty: the paired interval is much tighter than one from independent resamples."
    rng = np.random.default_rng(0)
    difficulty = rng.random(500)
    a, b = difficulty < 0.55, difficulty < 0.50          # B is A minus a 5% band of items
    paired = paired_bootstrap(a, b)
    ia = rng.integers(0, 500, size=(2000, 500))
    ib = rng.integers(0, 500, size=(2000, 500))
    unpaired = np.quantile(a[ia].mean(1) - b[ib].mean(1), [0.025, 0.975])
    assert paired["lo"] > 0 > unpaired[0]
    assert paired["hi"] - paired["lo"] < 0.5 * (unpaired[1] - unpaired[0])


@pytest.mark.parametrize("sd,delta", [(0.5, 0.03), (0.3, 0.05), (0.54, 0.03), (1.0, 0.2)])
def test_items_needed_is_the_smallest_n_with_the_power_scipy_computes(sd, delta):
    "The sample size from `items_needed` reaches 80% power of the two-sided paired z-test (scipy's normal), and one item fewer does not."
    from coldstart_nb.stats import items_needed
    z = scipy_stats.norm.ppf(0.975)
    power = lambda n: scipy_stats.norm.cdf(delta * math.sqrt(n) / sd - z) + scipy_stats.norm.cdf(-delta * math.sqrt(n) / sd - z)
    n = items_needed(sd, delta)
    assert power(n) >= 0.8 and power(n - 1) < 0.801   # one item fewer falls short (the far tail adds a hair at most)


def test_variance_parts_recover_known_between_and_within_variance():
    "Simulated items with known per-item success rates: the split of a paired difference's variance matches the truth."
    from coldstart_nb.stats import variance_parts
    rng = np.random.default_rng(0)
    n, k = 4000, 4
    pa, pb = rng.uniform(0.1, 0.9, n), rng.uniform(0.1, 0.9, n)
    a, b = (rng.random((n, k)) < pa[:, None]).astype(float), (rng.random((n, k)) < pb[:, None]).astype(float)
    parts = variance_parts(a, b)
    within = (pa * (1 - pa) + pb * (1 - pb)).mean()   # per-sample Bernoulli variance of both models
    assert parts["within"] == pytest.approx(within, rel=0.05)
    assert parts["between"] == pytest.approx(np.var(pa - pb), rel=0.1)
    assert parts["diff"] == pytest.approx((pa - pb).mean(), abs=0.02)
