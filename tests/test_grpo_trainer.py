"""`PaperGRPOTrainer`'s pieces: its advantage scale is the lesson's `group_advantages`, bit for bit the formula it
replaced (`adv / (std + eps)` on TRL's float32 centred rewards, over every process's advantages); rewards come from the
registry; the zero-variance share and the reflection / pattern metrics follow the weighted total reward of every
reward function, whatever the rewards are named."""
import inspect
import zlib
from types import SimpleNamespace

import pytest
import torch

import coldstart_nb.grpo as grpo
from coldstart_nb.recipes import load_recipe
from coldstart_nb.embedded import ensure_embedded
from coldstart_nb.grading import accuracy_reward, completion_text
from coldstart_nb.grpo import (GRPORecipe, PaperGRPOTrainer, RecordingReward, group_advantages, register_reward, reward_functions,
                               reward_weights, rollout_metrics, total_reward, zero_variance_groups)
from coldstart_nb.reflection import pattern_log, reflection_log


def old_scale(adv, G, eps=1e-6):
    "The trainer's scale before it called `group_advantages` (float32 division of TRL's centred rewards)."
    return adv / (adv.view(-1, G).std(1, unbiased=True).repeat_interleave(G) + eps)


def trl_centred(rewards, G):
    "TRL 1.16's advantages under scale_rewards='none': each reward minus its group's nanmean (float32)."
    return rewards - torch.nanmean(rewards.view(-1, G), dim=1).repeat_interleave(G, dim=0)


def fake_trainer(full, rank, eps=1e-6):
    "What `_scale_advantages` reads of a trainer: `gather` returns every process's advantages, and the recipe."
    return SimpleNamespace(accelerator=SimpleNamespace(gather=lambda t: full, process_index=rank), recipe=GRPORecipe(adv_eps=eps))


def rewards_of(kind, n, g):
    return (torch.rand(n, generator=g) < 0.4).float() if kind == "binary" else torch.randn(n, generator=g) * 3 + 1


@pytest.mark.parametrize("G", [4, 8, 10])
@pytest.mark.parametrize("kind", ["binary", "real"])
def test_scale_is_bit_identical_to_the_old_formula(G, kind):
    g = torch.Generator().manual_seed(G)
    for _ in range(100):
        adv = trl_centred(rewards_of(kind, 6 * G, g), G)
        assert torch.equal(group_advantages(adv, G, centred=True), old_scale(adv, G))
        got = PaperGRPOTrainer._scale_advantages(fake_trainer(adv, 0), {"advantages": adv.clone()}, G)["advantages"]
        assert torch.equal(got, old_scale(adv, G))


@pytest.mark.parametrize("G", [4, 8, 10])
@pytest.mark.parametrize("kind", ["binary", "real"])
def test_scale_over_processes_is_bit_identical(G, kind):
    "Four processes of 1.5 groups each: groups split across processes; each keeps its slice of the whole groups' scale."
    g = torch.Generator().manual_seed(100 + G)
    for _ in range(20):
        full = trl_centred(rewards_of(kind, 6 * G, g), G)
        b = len(full) // 4
        std = full.view(-1, G).std(1, unbiased=True).repeat_interleave(G)
        for rank in range(4):
            local = full[rank * b:(rank + 1) * b].clone()
            got = PaperGRPOTrainer._scale_advantages(fake_trainer(full, rank), {"advantages": local}, G)["advantages"]
            assert torch.equal(got, local / (std[rank * b:(rank + 1) * b] + 1e-6))   # the old code, on each rank


def test_scale_still_checks_the_float64_reference():
    "The lesson's (uncentred) path keeps float64 inputs in float64: `test_grpo_math`'s comparison is unchanged."
    r = torch.tensor([1.0, 0.0, 0.5, 0.25], dtype=torch.float64)
    assert group_advantages(r, 4).dtype == torch.float64


def test_trainer_scales_with_group_advantages(monkeypatch):
    calls, real = [], grpo.group_advantages
    def spy(*a, **kw):
        calls.append(inspect.signature(real).bind(*a, **kw).arguments)
        return real(*a, **kw)
    monkeypatch.setattr(grpo, "group_advantages", spy)
    full = trl_centred(torch.tensor([1.0, 0, 0, 1, 1, 1, 0, 1]), 8)
    out = PaperGRPOTrainer._scale_advantages(fake_trainer(full, 1, eps=1e-3), {"advantages": full[4:].clone()}, 8)
    assert len(calls) == 1, "the trainer's advantage scale must be `group_advantages`"
    c = calls[0]
    assert torch.equal(c["rewards"], full) and c["group_size"] == 8 and c["eps"] == 1e-3 and c["centred"] is True
    assert torch.equal(out["advantages"], real(full, 8, 1e-3, centred=True)[4:])


def test_reward_functions_come_from_the_registry(monkeypatch):
    monkeypatch.setattr(grpo, "REWARDS", dict(grpo.REWARDS))
    r = GRPORecipe(reward="accuracy:1,format:0.1", reward_mode="default")
    fns = reward_functions(r)
    assert [f.__name__ for f in fns] == ["accuracy", "format"] and reward_weights(r) == [1.0, 0.1]
    done = [r"so \boxed{3}", r"so \boxed{4}"]
    assert fns[0](done, answer=["3", "3"]) == accuracy_reward(done, answer=["3", "3"], mode="default")
    with pytest.raises(ValueError, match="unknown reward 'brevity'"):
        reward_functions(GRPORecipe(reward="brevity"))
    register_reward("brevity")(lambda completions, **kw: [1.0] * len(completions))
    assert [f.__name__ for f in reward_functions(GRPORecipe(reward="accuracy,brevity:0.5"))] == ["accuracy", "brevity"]


COMPLETIONS = [[{"role": "assistant", "content": t}] for t in
               ("Wait, let me check again. Row by row: 3.", "Row by row: 3.", "It is 3.", "3")]


def test_metrics_follow_a_reward_not_named_accuracy(monkeypatch):
    "A recipe whose only reward is 'brevity' (weight 2): the zero-variance share and reflection/pattern metrics come from it."
    monkeypatch.setattr(grpo, "REWARDS", dict(grpo.REWARDS))

    @register_reward("brevity")
    def brevity(completions, max_completion_length: int = 0, **kw):   # a recipe field, bound by `reward_functions`
        return [float(len(completion_text(c)) < max_completion_length) for c in completions]

    r = GRPORecipe(reward="brevity:2", max_completion_length=15, track_pattern="Row by row")
    fns = reward_functions(r)
    fns[0](COMPLETIONS, answer=["3"] * 4)
    comps, total = total_reward(fns, reward_weights(r))
    assert comps == COMPLETIONS and total.tolist() == [0.0, 2.0, 2.0, 2.0]
    m = rollout_metrics(total, 2, comps, r.track_pattern)
    assert m["frac_zero_variance_groups"] == 0.5                        # group 2 is all 2s; group 1 has variance
    assert m["reflection/rate"] == 0.25 and m["reflection/acc_plain"] == 1.0 and m["reflection/acc_reflective"] == 0.0
    assert m["pattern/rate"] == 0.5 and m["pattern/acc_with"] == 0.5 and m["pattern/acc_without"] == 1.0


def test_weighted_total_sums_every_reward():
    a = RecordingReward(lambda completions, **kw: [1.0, 1.0, 0.0, 0.0], "accuracy")
    f = RecordingReward(lambda completions, **kw: [1.0, 0.0, None, 0.0], "format")
    for fn in (a, f): fn(COMPLETIONS)
    _, total = total_reward([a, f], torch.tensor([1.0, 0.5]))
    assert torch.equal(total, torch.tensor([1.5, 1.0, 0.0, 0.0]))     # None is skipped, as TRL's nansum skips it
    assert zero_variance_groups(total, 2).tolist() == [False, True]    # group 1 has signal through format (accuracy alone: none)
    assert total_reward([a, lambda completions, **kw: [0.0] * 4], [1.0, 1.0]) is None   # one function unrecorded: no total


def test_accuracy_alone_logs_exactly_what_it_did():
    "All presets: the single accuracy reward of weight 1. The total is its rewards, so the metrics are those of the name lookup."
    acc = RecordingReward(lambda completions, **kw: [1.0, 0.0, 1.0, 1.0], "accuracy")
    acc(COMPLETIONS)
    comps, total = total_reward([acc], torch.ones(1))
    old_rewards = torch.tensor(acc.last[1], dtype=torch.float32)       # what the name lookup fed the zero-variance check
    assert torch.equal(total, old_rewards)
    old = {"frac_zero_variance_groups": zero_variance_groups(old_rewards, 2).float().mean().item(),
           **reflection_log(acc.last[0], acc.last[1]), **pattern_log(acc.last[0], acc.last[1], "Row by row")}
    assert rollout_metrics(total, 2, comps, "Row by row") == old


def coin(completions, seed: int = 0, **kw):
    "A deterministic coin per completion (variance inside groups on a random model); `seed` is the recipe's."
    return [float(zlib.crc32(f"{seed}{completion_text(c)}".encode()) % 2) for c in completions]


def test_training_logs_metrics_for_rewards_of_any_name(tmp_path, monkeypatch):
    "A real run whose rewards are 'coin' and 'format' (no 'accuracy'): every rollout step logs the metrics."
    ensure_embedded(progress=False)
    monkeypatch.setattr(grpo, "REWARDS", dict(grpo.REWARDS))
    register_reward("coin")(coin)
    rec = load_recipe("grpo", "tiny", GRPORecipe, output_dir=str(tmp_path), max_steps=2, save_steps=10000, resume=False,
                      reward="coin:2,format:0.5", temperature=1.0)
    trainer, _ = grpo.train_grpo(rec)
    assert isinstance(trainer, PaperGRPOTrainer) and [f.__name__ for f in trainer.reward_funcs] == ["coin", "format"]
    roll = [h for h in trainer.state.log_history if "rewards/coin/mean" in h]
    assert roll, trainer.state.log_history
    for h in roll:
        assert {"frac_zero_variance_groups", "reflection/rate", "reflection/acc_plain", "pattern/rate"} <= set(h), h
        assert h["frac_zero_variance_groups"] < 1.0    # the coin gives groups variance (the advantages' fallback would too)


def test_plain_reward_functions_are_recorded(tiny_model_dir, tmp_path):
    "A reward function passed unwrapped still feeds the metrics: the trainer wraps it in `RecordingReward`, keeping its name."
    from coldstart_nb.grpo import grpo_config, rl_dataset
    from coldstart_nb.models import load_model, load_processor
    ensure_embedded(progress=False)
    r = load_recipe("grpo", "tiny", GRPORecipe, output_dir=str(tmp_path))
    t = PaperGRPOTrainer(model=load_model(tiny_model_dir, device="cpu"), reward_funcs=[coin], args=grpo_config(r, tmp_path),
                         train_dataset=rl_dataset(r.train_data, limit=4), processing_class=load_processor(tiny_model_dir), recipe=r)
    assert isinstance(t.reward_funcs[0], RecordingReward) and t.reward_funcs[0].__name__ == "coin" and t.reward_func_names == ["coin"]


def test_reward_deadline_reaches_the_grader(monkeypatch):
    "A recipe's `reward_deadline` bounds the accuracy reward's grading (issue 24 item 4): it reaches `accuracy_reward` as `deadline`."
    seen = {}
    monkeypatch.setattr(grpo, "accuracy_reward", lambda completions, **kw: seen.update(kw) or [1.0] * len(completions))
    fn = reward_functions(load_recipe("grpo", "tiny", reward_deadline=3.0))[0]
    assert fn(["\\boxed{1}"], answer=["1"]) == [1.0]
    assert seen["deadline"] == 3.0 and seen["mode"] == "paper"
