"""fp32 master weights (issue 20 item 4). The authors' EasyR1 keeps fp32 master weights and computes in bf16; at the paper's
GRPO lr of 1e-6 an AdamW step on bf16 weights (8 significant bits) rounds most updates away. On CPU, in bf16 autocast as
`bf16=True` trains on a GPU, one 1e-6 AdamW step must move the weights our training paths keep in fp32 (full fine-tuning
without DeepSpeed, and LoRA), and leaves a bf16 copy without a master (the old `dtype='auto'` load) nearly unchanged.
ZeRO-2/3 keep their own fp32 partitions: the engine lane (tests_engines/test_zero.py) checks their dtype."""
import pytest
import torch

from coldstart_nb.models import load_model
from coldstart_nb.recipes import load_recipe
from coldstart_nb.train import add_lora, fp32_masters, train_dtype

GPU_AUTO = "bfloat16"   # what `dtype='auto'` loads on a bf16-capable GPU


def moved_by_one_step(model) -> float:
    "Share of the elements with a non-zero gradient that one AdamW step at lr 1e-6 (bf16 autocast) changes."
    params = [p for p in model.parameters() if p.requires_grad]
    before = [p.detach().clone() for p in params]
    ids = torch.randint(3, 300, (2, 48), generator=torch.Generator().manual_seed(0))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    torch.optim.AdamW(params, lr=1e-6, weight_decay=0.0).step()
    # (LoRA's A matrices get a zero gradient at the first step, their B partners being zero: they cannot move yet)
    grads = [(p, b, p.grad != 0) for p, b in zip(params, before) if p.grad is not None]
    return sum((p.detach() != b)[g].sum().item() for p, b, g in grads) / sum(g.sum().item() for _, _, g in grads)


def test_full_fine_tuning_loads_fp32_masters(tiny_model_dir):
    dt = train_dtype(lora=False)
    m = load_model(tiny_model_dir, dtype=GPU_AUTO if dt == "auto" else dt, device="cpu")
    assert {p.dtype for p in m.parameters()} == {torch.float32}
    assert moved_by_one_step(m) > 0.9


def test_lora_keeps_its_trainable_weights_in_fp32(tiny_model_dir):
    dt = train_dtype(lora=True)
    m = load_model(tiny_model_dir, dtype=GPU_AUTO if dt == "auto" else dt, device="cpu")   # the frozen base stays bf16
    m = add_lora(m, 8, 16, 0.0, "q_proj,v_proj")
    fp32_masters(m)
    assert {p.dtype for p in m.parameters() if p.requires_grad} == {torch.float32}
    assert torch.bfloat16 in {p.dtype for p in m.parameters() if not p.requires_grad}
    assert moved_by_one_step(m) > 0.9


def test_bf16_weights_without_a_master_lose_the_step(tiny_model_dir):
    m = load_model(tiny_model_dir, dtype=GPU_AUTO, device="cpu")   # the old GPU path: dtype='auto', no master copy
    assert moved_by_one_step(m) < 0.1


@pytest.mark.parametrize("lora", [False, True])
def test_the_trainers_load_with_the_master_dtype(lora, monkeypatch, tmp_path):
    "train_sft asks load_model for `train_dtype`'s dtype (the stage the trainers share; GRPO calls the same two functions)."
    import coldstart_nb.models as models
    from coldstart_nb.embedded import ensure_embedded
    from coldstart_nb.sft import train_sft
    ensure_embedded(progress=False)
    asked = []
    real = models.load_model
    monkeypatch.setattr(models, "load_model", lambda *a, **kw: asked.append(kw.get("dtype")) or real(*a, **kw))
    rec = load_recipe("sft", "tiny", output_dir=str(tmp_path), max_steps=1, eval_fraction=0.0, lora=lora, lora_r=4, lora_alpha=8)
    t, _ = train_sft(rec)
    assert asked == ["auto" if lora else "float32"]
    assert all(p.dtype == torch.float32 for p in t.model.parameters() if p.requires_grad)
