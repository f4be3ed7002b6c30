"""What the CPU kernel pins cost and change: native kernels vs `core.CPU_NUMERICS_PINS` (torch, oneDNN and MKL at AVX2) and variants.

Usage: python bench/numerics.py [--preset small] [--steps 12] [--batch 16] [--threads 2] [--repeats 3]

Each setting runs in a fresh process (the pins are read when the libraries load): AdamW training steps of a
random-init Qwen2.5-VL of `--preset` (the embedded default's shape) on a synthetic batch with one 84x84 image per
row, then greedy generation of 48 tokens for the batch. Prints the kernel level torch used, the median step time,
the generation time, their ratios to native measured in the same run, and whether the weights after the steps are
bit-identical to native's (they differ wherever the pins change which kernels run).
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = r"""
import hashlib, json, sys, time, torch
from PIL import Image
from transformers import Qwen2_5_VLForConditionalGeneration, Qwen2VLImageProcessorPil
from coldstart_nb.models import VLProcessor, model_config, train_tokenizer
preset, steps, batch, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
tok = train_tokenizer(["Count the shapes in the grid and add them step by step."] * 20, 600)
proc = VLProcessor(Qwen2VLImageProcessorPil(min_pixels=784, max_pixels=200704), tok, chat_template=tok.chat_template)
torch.manual_seed(0)
model = Qwen2_5_VLForConditionalGeneration(model_config(preset, tok)).float()
opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
msg = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Count the shapes."}]}]
text = proc.apply_chat_template(msg, add_generation_prompt=True, tokenize=False)
g = torch.Generator().manual_seed(0)
imgs = [Image.fromarray((torch.rand(84, 84, 3, generator=g) * 255).byte().numpy()) for _ in range(batch)]
enc = proc(text=[text] * batch, images=imgs, return_tensors="pt")
ids = torch.cat([enc["input_ids"], torch.randint(0, len(tok) - 20, (batch, 64), generator=g)], 1)
mm = torch.cat([enc["mm_token_type_ids"], torch.zeros(batch, 64, dtype=torch.long)], 1)
inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids, "pixel_values": enc["pixel_values"],
          "image_grid_thw": enc["image_grid_thw"], "mm_token_type_ids": mm}
times = []
for i in range(steps + 1):
    t = time.perf_counter(); model(**inputs).loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    if i: times.append(time.perf_counter() - t)
h = hashlib.sha256()
for n, p in sorted(model.state_dict().items()): h.update(n.encode()); h.update(p.detach().contiguous().numpy().tobytes())
model.eval()
gen = {k: v for k, v in enc.items()}
t = time.perf_counter()
with torch.no_grad(): out = model.generate(**gen, max_new_tokens=48, min_new_tokens=48, do_sample=False)
gen_s = time.perf_counter() - t
print(json.dumps({"capability": torch.backends.cpu.get_cpu_capability(), "step_s": sorted(times)[len(times) // 2],
                  "gen_s": gen_s, "digest": h.hexdigest(), "gen_digest": hashlib.sha256(out.numpy().tobytes()).hexdigest()}))
"""


def run(setting: str, env_extra: dict, a) -> dict:
    from coldstart_nb.core import CPU_NUMERICS_PINS
    env = {k: v for k, v in os.environ.items() if k not in CPU_NUMERICS_PINS}
    env.update(env_extra, OMP_NUM_THREADS=str(a.threads), MKL_NUM_THREADS=str(a.threads), HF_HUB_OFFLINE="1")
    r = subprocess.run([sys.executable, "-c", CHILD, a.preset, str(a.steps), str(a.batch), str(a.threads)], env=env,
                       capture_output=True, text=True, cwd=ROOT)
    if r.returncode: raise SystemExit(f"{setting} failed:\n{r.stderr[-3000:]}")
    return {"setting": setting, **json.loads(r.stdout.strip().splitlines()[-1])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small"); ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--batch", type=int, default=16); ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "numerics.md")); a = ap.parse_args()
    from coldstart_nb.core import CPU_NUMERICS_PINS
    settings = [("native kernels", {}), ("pinned (core.CPU_NUMERICS_PINS)", CPU_NUMERICS_PINS),
                ("pinned, MKL_CBWR=COMPATIBLE", {**CPU_NUMERICS_PINS, "MKL_CBWR": "COMPATIBLE"}),
                ("pinned, MKL native", {k: v for k, v in CPU_NUMERICS_PINS.items() if k != "MKL_CBWR"}),
                ("torch AVX2 only", {"ATEN_CPU_CAPABILITY": "avx2"})]
    runs = [run(name, env, a) for _ in range(a.repeats) for name, env in settings]   # interleaved: load drifts hit all alike
    rows = []
    for name, _ in settings:
        rs = [r for r in runs if r["setting"] == name]
        rows.append({**rs[0], "step_s": sorted(r["step_s"] for r in rs)[len(rs) // 2],
                     "gen_s": sorted(r["gen_s"] for r in rs)[len(rs) // 2]})
    base, pin = rows[0], rows[1]
    head = ("| setting | torch kernels | train s/step (median) | ratio | generate 48 tok (s) | ratio | weights = native's | "
            "weights = pinned's | tokens = native's |\n|---|---|---|---|---|---|---|---|---|")
    lines = [f"| {r['setting']} | {r['capability']} | {r['step_s']:.3f} | {r['step_s'] / base['step_s']:.2f} | {r['gen_s']:.2f} | "
             f"{r['gen_s'] / base['gen_s']:.2f} | {r['digest'] == base['digest']} | {r['digest'] == pin['digest']} | "
             f"{r['gen_digest'] == base['gen_digest']} |" for r in rows]
    table = head + "\n" + "\n".join(lines)
    note = (f"\n\n{a.preset} preset, batch {a.batch}, {a.threads} threads, {a.steps} timed steps; medians of {a.repeats} interleaved "
            f"runs per setting; "
            f"{os.uname().machine}, {os.cpu_count()} CPUs.")
    print(table + note)
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True); out.write_text(table + note + "\n")


if __name__ == "__main__":
    main()
