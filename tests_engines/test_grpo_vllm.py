"""GRPO with colocated vLLM rollouts (TRL's `VLLMGeneration` on vLLM's CPU build), images in every prompt, from a random-init
tiny model: the model that, without our suppression, samples `<|image_pad|>` and crashes the log-prob pass ("Image features
and image tokens do not match, tokens: 145, features: 144", reproduced with `grpo_vllm_worker.py ... --no-suppression`).
The weight sync is the CPU-only test-lane shim named in the worker; everything else is TRL's and ours."""
import json
import math
import sys

import pytest

from conftest import HERE, ROOT, run


@pytest.fixture(scope="module")
def rollouts(embedded, tmp_path_factory):
    out = tmp_path_factory.mktemp("grpo-vllm")
    run([sys.executable, str(HERE / "grpo_vllm_worker.py"), str(ROOT / "models" / "tiny-init"), str(out), "4"])
    return json.loads((out / "grpo_vllm.json").read_text())


def test_rollouts_came_from_vllm_and_trained(rollouts):
    assert (rollouts["vllm"], rollouts["mode"], rollouts["steps"]) == (True, "colocate", 4)
    assert rollouts["completions"] >= 32 and rollouts["syncs"] >= 1   # two rollouts, the policy synced into the engine between
    assert all(math.isfinite(x) for x in rollouts["losses"]) and len(rollouts["losses"]) == 4
    assert rollouts["after"] != rollouts["before"]


def test_no_vision_token_in_any_completion(rollouts):
    assert rollouts["vision_tokens_sampled"] == 0
    assert set(rollouts["generation_kwargs"]["logit_bias"].values()) == {-100.0} and len(rollouts["generation_kwargs"]["logit_bias"]) == 5
