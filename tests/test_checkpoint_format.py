"""What we save opens in the stock loaders (issue 12, defect 4).

The stock `Qwen2_5_VLProcessor` always builds a video processor, and transformers' `Qwen2VLVideoProcessor` imports
torchvision at module level; this CPU machine has no torchvision (ENV notes). So where torchvision is absent the stock
processor classes are checked to resolve every part from our files and to stop only at that import (naming the stock
video processor class), and the image + tokenizer half is loaded by the stock `ProcessorMixin.from_pretrained` path through
`VLProcessor` (the stock class minus its video part). Where torchvision is installed (GPU machines) the stock classes load
in full. The vLLM contract re-derives the number of vision tokens the way vLLM's Qwen2-VL processing info does (saved
`min_pixels`/`max_pixels`, the vision config's patch and merge sizes) and checks it equals what our trainers feed the model.
"""
import importlib.util
import json

import pytest
import torch
from PIL import Image
from transformers import AutoImageProcessor, AutoProcessor, AutoTokenizer, Qwen2_5_VLForConditionalGeneration
from transformers.models.qwen2_5_vl.processing_qwen2_5_vl import Qwen2_5_VLProcessor

from coldstart_nb.images import smart_resize
from coldstart_nb.models import VLProcessor, load_processor

HAS_TORCHVISION = importlib.util.find_spec("torchvision") is not None


def _stock_or_torchvision_error(loader, path):
    "Load with a stock loader; without torchvision, the only acceptable failure is the stock video processor's torchvision import."
    if HAS_TORCHVISION:
        return loader(path)
    with pytest.raises(ImportError) as e:
        loader(path)
    assert "Qwen2VLVideoProcessor" in str(e.value) and "Torchvision" in str(e.value), str(e.value)
    return None


def test_processor_files_are_the_stock_format(tiny_model_dir):
    pc = json.loads((tiny_model_dir / "processor_config.json").read_text())
    assert pc["processor_class"] == "Qwen2_5_VLProcessor"
    assert pc["image_processor"]["image_processor_type"] == "Qwen2VLImageProcessor"
    assert pc["video_processor"]["video_processor_type"] == "Qwen2VLVideoProcessor"
    for legacy in ("preprocessor_config.json", "video_preprocessor_config.json"):
        assert json.loads((tiny_model_dir / legacy).read_text())["processor_class"] == "Qwen2_5_VLProcessor"


def test_stock_loaders_open_a_saved_checkpoint(tiny_model_dir):
    auto = _stock_or_torchvision_error(AutoProcessor.from_pretrained, tiny_model_dir)
    stock = _stock_or_torchvision_error(Qwen2_5_VLProcessor.from_pretrained, tiny_model_dir)
    for p in (auto, stock):
        assert p is None or isinstance(p, Qwen2_5_VLProcessor)
    img = AutoImageProcessor.from_pretrained(tiny_model_dir)
    assert (img.size["shortest_edge"], img.size["longest_edge"]) == (28 * 28, 256 * 28 * 28)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    assert tok.convert_tokens_to_ids("<|image_pad|>") != tok.unk_token_id and tok.chat_template
    half = VLProcessor.from_pretrained(tiny_model_dir)      # the stock ProcessorMixin path, video part dropped
    ours = load_processor(tiny_model_dir)
    im = Image.new("RGB", (300, 250), "white")
    text = ours.apply_chat_template([{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "hi"}]}],
                                    add_generation_prompt=True, tokenize=False)
    a, b = half(text=[text], images=[im], return_tensors="pt"), ours(text=[text], images=[im], return_tensors="pt")
    assert torch.equal(a["input_ids"], b["input_ids"]) and torch.equal(a["pixel_values"], b["pixel_values"])
    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(tiny_model_dir)
    assert model.config.model_type == "qwen2_5_vl"
    out = model(**b)
    assert out.logits.shape[1] == b["input_ids"].shape[1]


def vllm_image_tokens(ckpt, height: int, width: int, model_dir=None) -> int:
    "Vision tokens vLLM's Qwen2-VL processing info counts for an image, from the saved files only."
    cfg = json.loads(((model_dir or ckpt) / "config.json").read_text())
    vc = cfg["vision_config"]
    ip = json.loads((ckpt / "preprocessor_config.json").read_text())
    h, w = smart_resize(height, width, vc["patch_size"] * vc["spatial_merge_size"], ip["min_pixels"], ip["max_pixels"])
    return (h // vc["patch_size"]) * (w // vc["patch_size"]) // vc["spatial_merge_size"] ** 2


def test_vllm_contract_fields(tiny_model_dir):
    cfg = json.loads((tiny_model_dir / "config.json").read_text())
    assert cfg["architectures"] == ["Qwen2_5_VLForConditionalGeneration"] and cfg["model_type"] == "qwen2_5_vl"
    for k in ("image_token_id", "video_token_id", "vision_start_token_id"):
        assert isinstance(cfg[k], int), k
    for k in ("patch_size", "spatial_merge_size", "temporal_patch_size"):
        assert isinstance(cfg["vision_config"][k], int), k
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    assert tok.convert_tokens_to_ids("<|image_pad|>") == cfg["image_token_id"]
    assert tok.convert_tokens_to_ids("<|vision_start|>") == cfg["vision_start_token_id"]
    for name in ("preprocessor_config.json", "processor_config.json"):
        d = json.loads((tiny_model_dir / name).read_text())
        ip = d.get("image_processor", d)
        assert (ip["min_pixels"], ip["max_pixels"]) == (ip["size"]["shortest_edge"], ip["size"]["longest_edge"]), name


@pytest.mark.parametrize("lo,hi", [(3136, 1204224), (262144, 1204224)])
def test_vllm_counts_the_tokens_the_trainer_feeds(tiny_model_dir, tmp_path, lo, hi):
    "A checkpoint saved with the next stage's pixel settings: vLLM and the trainer agree on every image's token count."
    proc = load_processor(tiny_model_dir, min_pixels=lo, max_pixels=hi)
    proc.save_pretrained(tmp_path)
    for (hh, ww) in [(250, 300), (84, 84), (1000, 1400), (30, 900)]:
        grid = proc.image_processor(images=[Image.new("RGB", (ww, hh))], return_tensors="pt")["image_grid_thw"][0]
        assert vllm_image_tokens(tmp_path, hh, ww, tiny_model_dir) == int(grid.prod()) // 4, (hh, ww)


def test_save_with_next_stage_pixels(tiny_model_dir, tmp_path):
    "Defect 4: a 300x250 image is 99 tokens at SFT's min_pixels and 357 at GRPO's; the checkpoint carries the next stage's."
    load_processor(tiny_model_dir).save_pretrained(tmp_path / "a", min_pixels=3136, max_pixels=1204224)
    load_processor(tiny_model_dir).save_pretrained(tmp_path / "b", min_pixels=262144, max_pixels=1204224)
    assert vllm_image_tokens(tmp_path / "a", 250, 300, tiny_model_dir) == 99
    assert vllm_image_tokens(tmp_path / "b", 250, 300, tiny_model_dir) == 357
    assert load_processor(tmp_path / "b").image_processor.size["shortest_edge"] == 262144
    with pytest.raises(ValueError, match="min_pixels"):
        load_processor(tiny_model_dir).save_pretrained(tmp_path / "c", min_pixels=10**7, max_pixels=1000)
