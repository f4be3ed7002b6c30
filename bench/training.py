"""Training-step throughput of a random-init Qwen2.5-VL: tokens/s, peak memory and model-FLOPs utilisation.

Usage: python bench/training.py [--preset tiny|small|base|qwen2.5-vl-3b] [--steps 5] [--batch 4] [--seq 512] [--images 1]

On CPU it runs the small presets (fp32); on a GPU it runs in bf16 with SDPA attention, e.g.
`--preset qwen2.5-vl-3b --batch 4 --seq 2048`, which is what to record from a GPU machine. One
forward+backward+AdamW step per iteration on synthetic batches (random tokens around real image
placeholders from 448x448 images); the first step is warm-up and not timed. MFU = 6 x parameters x
tokens/s over the device's peak (H100/H200 bf16 dense: 989 TFLOP/s; pass --peak-tflops otherwise).
"""
import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small"); ap.add_argument("--steps", type=int, default=5); ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=512); ap.add_argument("--images", type=int, default=1); ap.add_argument("--peak-tflops", type=float, default=None)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "training.md")); a = ap.parse_args()
    import torch
    from PIL import Image
    from transformers import Qwen2_5_VLForConditionalGeneration, Qwen2VLImageProcessorPil
    from coldstart_nb.models import VLProcessor, count_params, model_config, train_tokenizer
    cuda = torch.cuda.is_available(); dev = "cuda" if cuda else "cpu"; dtype = torch.bfloat16 if cuda else torch.float32
    tok = train_tokenizer(["Count the shapes in the grid and add them step by step."] * 20, 600)
    proc = VLProcessor(Qwen2VLImageProcessorPil(min_pixels=3136, max_pixels=448 * 448), tok, chat_template=tok.chat_template)
    torch.manual_seed(0)
    cfg = model_config(a.preset, tok); cfg._attn_implementation = "sdpa"
    model = Qwen2_5_VLForConditionalGeneration(cfg).to(dev, dtype)
    if cuda: model.gradient_checkpointing_enable()
    n = count_params(model); opt = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=cuda)
    msg = [{"role": "user", "content": [{"type": "image"}] * a.images + [{"type": "text", "text": "Count."}]}]
    text = proc.apply_chat_template(msg, add_generation_prompt=True, tokenize=False)
    imgs = [Image.new("RGB", (448, 448), (255, 255, 255)) for _ in range(a.images * a.batch)]
    enc = proc(text=[text] * a.batch, images=imgs, return_tensors="pt")
    prompt = enc["input_ids"]; pad = max(0, a.seq - prompt.shape[1])
    ids = torch.cat([prompt, torch.randint(0, len(tok) - 20, (a.batch, pad))], 1).to(dev)
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids, "pixel_values": enc["pixel_values"].to(dev, dtype),
             "image_grid_thw": enc["image_grid_thw"].to(dev), "mm_token_type_ids": torch.cat([enc["mm_token_type_ids"], torch.zeros(a.batch, pad, dtype=torch.long)], 1).to(dev)}
    times = []
    for i in range(a.steps + 1):
        if cuda: torch.cuda.synchronize()
        t = time.perf_counter(); loss = model(**batch).loss; loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        if cuda: torch.cuda.synchronize()
        if i: times.append(time.perf_counter() - t)
    step = sorted(times)[len(times) // 2]; tokens = a.batch * ids.shape[1]; tps = tokens / step
    peak = torch.cuda.max_memory_allocated() / 2 ** 30 if cuda else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20
    peak_tflops = a.peak_tflops or (989.0 if cuda else None)
    mfu = 6 * n * tps / (peak_tflops * 1e12) if peak_tflops else None
    dev_name = torch.cuda.get_device_name(0) if cuda else "CPU"
    line = (f"| {a.preset} | {n / 1e6:,.1f}M | {dev_name} | {str(dtype).split('.')[-1]} | {a.batch}x{ids.shape[1]} | {step:.3f} | {tps:,.0f} | "
            f"{peak:.2f} ({'GPU alloc' if cuda else 'process RSS'}) | {f'{100 * mfu:.1f}%' if mfu else 'n/a (CPU)'} |")
    head = "| preset | params | device | dtype | batch x tokens | s/step (median) | tokens/s | peak GB | MFU |\n|---|---|---|---|---|---|---|---|---|"
    print(head + "\n" + line)
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    prev = out.read_text().splitlines()[2:] if out.exists() else []
    out.write_text(head + "\n" + "\n".join(prev + [line]) + "\n")


if __name__ == "__main__":
    main()
