"""Our GRPO advantages, KL and per-token loss equal an independent, straightforward loop implementation of
SPEC section 5's formulas (dual clip, clip-higher, clamped k3 KL, token-mean aggregation), on random tensors."""
import math
import random

import pytest
import torch

from coldstart_nb.grpo import grpo_token_loss, group_advantages, k3_kl, zero_variance_groups


def ref_advantages(rewards, G, eps=1e-6):
    out = []
    for g in range(0, len(rewards), G):
        grp = rewards[g:g + G]; mu = sum(grp) / G
        sd = math.sqrt(sum((x - mu) ** 2 for x in grp) / (G - 1))
        out += [(x - mu) / (sd + eps) for x in grp]
    return out


def ref_loss(logp, old, ref, adv, mask, lo=0.2, hi=0.3, dual=3.0, beta=0.01, clamp=10.0):
    total, count = 0.0, 0
    for i in range(len(logp)):
        A = adv[i]
        for t in range(len(logp[i])):
            if not mask[i][t]:
                continue
            r = math.exp(logp[i][t] - old[i][t])
            L = max(-A * r, -A * min(max(r, 1 - lo), 1 + hi))
            if A < 0:
                L = min(L, -A * dual)
            d = ref[i][t] - logp[i][t]
            kl = min(max(math.exp(d) - d - 1, -clamp), clamp)
            total += L + beta * kl; count += 1
    return total / max(count, 1)


@pytest.mark.parametrize("seed", range(5))
def test_advantages_match(seed):
    rng = random.Random(seed); G = rng.choice([2, 5, 10])
    rewards = [float(rng.random() < 0.4) if seed % 2 else rng.gauss(0, 1) for _ in range(G * 6)]
    rewards[:G] = [1.0] * G  # a zero-variance group
    ours = group_advantages(torch.tensor(rewards, dtype=torch.float64), G)
    assert torch.allclose(ours, torch.tensor(ref_advantages(rewards, G), dtype=torch.float64), atol=1e-6)
    assert torch.all(ours[:G] == 0) and zero_variance_groups(torch.tensor(rewards), G)[0]


@pytest.mark.parametrize("seed", range(8))
def test_loss_and_kl_match(seed):
    g = torch.Generator().manual_seed(seed); B, T = 6, 11
    logp = torch.randn(B, T, generator=g, dtype=torch.float64) - 2
    old = logp + torch.randn(B, T, generator=g, dtype=torch.float64) * 0.8   # ratios well outside [0.8, 1.3] and past 3.0
    ref = logp + torch.randn(B, T, generator=g, dtype=torch.float64) * 6      # KL outliers beyond the clamp
    adv = torch.randn(B, generator=g, dtype=torch.float64) * 2
    mask = (torch.rand(B, T, generator=g) > 0.25).double(); mask[0] = 0        # a fully masked row
    loss, _ = grpo_token_loss(logp, old, adv, mask, ref)
    expect = ref_loss(logp.tolist(), old.tolist(), ref.tolist(), adv.tolist(), mask.tolist())
    assert abs(loss.item() - expect) < 1e-6
    d = (ref - logp).flatten().tolist()
    kl_ref = [min(max(math.exp(x) - x - 1, -10.0), 10.0) for x in d]
    assert torch.allclose(k3_kl(logp, ref).flatten(), torch.tensor(kl_ref, dtype=torch.float64), atol=1e-6)
    assert any(k == 10.0 for k in kl_ref), "the clamp must be exercised"


def test_dual_clip_and_clip_higher_are_exercised():
    # negative advantage with a huge ratio: the dual clip caps the loss at -A * 3
    l, m = grpo_token_loss(torch.tensor([[math.log(10.0)]]), torch.zeros(1, 1), torch.tensor([-1.0]), torch.ones(1, 1), beta=0.0)
    assert abs(l.item() - 3.0) < 1e-6 and m["clip_ratio/dual"] == 1.0
    # positive advantage with ratio 2: clipped at 1 + 0.3
    l, m = grpo_token_loss(torch.tensor([[math.log(2.0)]]), torch.zeros(1, 1), torch.tensor([1.0]), torch.ones(1, 1), beta=0.0)
    assert abs(l.item() + 1.3) < 1e-6 and m["clip_ratio/high"] == 1.0
    # negative advantage with ratio 0.5: clipped at 1 - 0.2
    l, _ = grpo_token_loss(torch.tensor([[math.log(0.5)]]), torch.zeros(1, 1), torch.tensor([-1.0]), torch.ones(1, 1), beta=0.0)
    assert abs(l.item() - 0.8) < 1e-6


def test_gradient_flows_only_through_new_logps():
    logp = torch.randn(2, 3, requires_grad=True)
    loss, _ = grpo_token_loss(logp, logp.detach(), torch.tensor([1.0, -1.0]), torch.ones(2, 3), logp.detach() + 0.1)
    loss.backward()
    assert logp.grad is not None and logp.grad.abs().sum() > 0
