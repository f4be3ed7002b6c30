"""What our GRPO trainer hands vLLM in colocate mode, on CPU (issue 12, defect 5).

vLLM is not installable here, so the engine is a fake `LLM` placed inside TRL 1.16's own `VLLMGeneration` (its
`generate` runs unchanged up to `llm.generate`); the prompts come from TRL's own `_generate` -> `_tokenize_prompts` ->
`_generate_single_turn` path on real rows with images. vLLM expects each image as a single `<|image_pad|>` that it
expands to the image's vision tokens; TRL 1.16 passes the already-expanded ids (issues 6294/6401), so vLLM would
expand the first placeholder again. The test checks the ids and images the engine receives, and that vLLM's expansion
of them reproduces exactly the ids the trainer computes the loss on."""
import pytest
import torch
from trl.data_utils import prepare_multimodal_messages
from trl.generation import vllm_generation as vg

from coldstart_nb.grpo import GRPORecipe, PaperGRPOTrainer, collapse_image_tokens, grpo_config, reward_functions, rl_dataset
from coldstart_nb.models import load_model, load_processor
from coldstart_nb.embedded import ensure_embedded
from coldstart_nb.recipes import load_recipe


class Captured(Exception):
    "Raised by the fake engine once it has recorded its inputs."


class FakeLLM:
    def __init__(self):
        self.calls = []

    def generate(self, prompts, sampling_params=None, use_tqdm=False):
        self.calls.append((prompts, sampling_params))
        raise Captured


@pytest.fixture
def trainer_and_rows(tiny_model_dir, tmp_path, monkeypatch):
    ensure_embedded(progress=False)
    r = load_recipe("grpo", "tiny", GRPORecipe, output_dir=str(tmp_path))
    proc = load_processor(tiny_model_dir, min_pixels=r.min_pixels, max_pixels=r.max_pixels)
    ds = rl_dataset(r.train_data, limit=4)
    t = PaperGRPOTrainer(model=load_model(tiny_model_dir, device="cpu"), reward_funcs=reward_functions(r), args=grpo_config(r, tmp_path),
                         train_dataset=ds, processing_class=proc, recipe=r)
    gen = vg.VLLMGeneration.__new__(vg.VLLMGeneration)
    gen.__dict__.update(accelerator=t.accelerator, temperature=r.temperature, top_p=r.top_p, top_k=-1, min_p=None, repetition_penalty=1.0,
                        max_completion_length=r.max_completion_length, mode="colocate", enable_sleep_mode=False, _llm_weights_sleeping=False,
                        structured_outputs_regex=None, generation_kwargs={}, logprobs=0, tensor_parallel_size=1, llm=FakeLLM(),
                        model=t.model)
    monkeypatch.setattr(vg, "SamplingParams", lambda **kw: kw, raising=False)
    t.use_vllm, t.vllm_mode, t.vllm_generation, t._last_loaded_step = True, "colocate", gen, t.state.global_step
    rows = [ds[i] for i in range(len(ds))]
    return t, rows


def test_vllm_gets_unexpanded_prompt_ids_and_the_images(trainer_and_rows):
    t, rows = trainer_and_rows
    prompts = [prepare_multimodal_messages(x["prompt"], images=x["images"]) for x in rows]
    with pytest.raises(Captured):
        t._generate(prompts)
    sent, params = t.vllm_generation.llm.calls[0]
    assert params["n"] == 1 and params["temperature"] == t.recipe.temperature and params["max_tokens"] == t.recipe.max_completion_length
    expanded, images, _ = t._tokenize_prompts(prompts)       # what the trainer trains on
    proc, tok = t.processing_class, t.processing_class.image_token_id
    assert len(sent) == len(rows)
    for row, ids, full, imgs in zip(sent, sent and [s["prompt_token_ids"] for s in sent], expanded, images):
        n_img = len(imgs)
        assert sum(1 for x in ids if x == tok) == n_img, "one <|image_pad|> per image"
        mm = row["multi_modal_data"]["image"]
        assert (mm if isinstance(mm, list) else [mm]) == imgs      # the very images, in order
        # vLLM's prompt update: each placeholder becomes grid_t*grid_h*grid_w / merge^2 tokens of the image it stands for
        grids = proc.image_processor(images=imgs, return_tensors="pt")["image_grid_thw"]
        counts = iter(int(g.prod()) // proc.image_processor.merge_size ** 2 for g in grids)
        rebuilt = [y for x in ids for y in ([x] * next(counts) if x == tok else [x])]
        assert rebuilt == list(full), "vLLM's expansion must give back the trainer's prompt ids"
        assert sum(1 for x in full if x == tok) > n_img          # the trainer's ids really are expanded


def test_text_only_prompts_pass_unchanged(trainer_and_rows):
    t, rows = trainer_and_rows
    ids = [[1, 2, 3], [4, 5]]
    with pytest.raises(Captured):
        t._generate_single_turn(ids, None, {}, 1)
    sent, _ = t.vllm_generation.llm.calls[0]
    assert [s["prompt_token_ids"] for s in sent] == ids and all("multi_modal_data" not in s for s in sent)
    assert collapse_image_tokens(torch.tensor([9, 9, 9]), 9) == [9]


def test_one_vllm_engine_per_process(monkeypatch):
    "Defect 7: a second model's engine used to start while the first held its GPU memory; the 32B teacher had no TP setting."
    import sys
    import types
    from coldstart_nb import generate as gen
    alive, made = [], []

    class LLM:
        def __init__(self, **kw):
            if alive:
                raise RuntimeError("a second engine cannot reserve GPU memory while another is alive")
            self.kw = kw
            alive.append(self)
            made.append(kw)
            self.llm_engine = types.SimpleNamespace(shutdown=lambda: alive.remove(self))

    monkeypatch.setitem(sys.modules, "vllm", types.SimpleNamespace(LLM=LLM, SamplingParams=dict))
    monkeypatch.setattr(gen, "_ENGINE", {"key": None, "llm": None})
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)   # the GPU settings (on CPU the engine's RAM share is capped)
    a = gen.VLLMBackend("checkpoints/sft-paper-3b/final")
    b = gen.VLLMBackend("checkpoints/sft-paper-3b/final")          # same model and settings: the same engine
    assert a.llm is b.llm and len(made) == 1
    t = gen.VLLMBackend("Qwen/Qwen2.5-VL-32B-Instruct")             # another model: the first is shut down first
    assert len(made) == 2 and alive == [t.llm]
    assert (made[1]["tensor_parallel_size"], made[1]["gpu_memory_utilization"], made[1]["max_model_len"]) == (4, 0.9, 8192)
    gen.VLLMBackend("Qwen/Qwen2.5-VL-32B-Instruct", max_model_len=4096)  # a caller's explicit setting wins (and is a new engine)
    assert made[2]["max_model_len"] == 4096 and made[2]["tensor_parallel_size"] == 4 and len(alive) == 1
    assert gen.release_vllm_engine() and alive == [] and not gen.release_vllm_engine()
