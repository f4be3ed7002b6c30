"""Peak memory against dataset size: images are decoded per batch, so peak RSS stays flat as the dataset grows.

Usage: python bench/memory.py [--sizes 300,3000,30000] [--baseline REV] [--out bench/results/memory.md]

For each size N it writes an RL-schema parquet (`images`, `problem`, `answer`) of N generated 1000x1000 images (a
flat colour, palette PNG, ~0.5 KB each, written in row groups so the disk stays small; `load_image` decodes each to a
3 MB RGB image, the GRPO path's `datasets.Image` to a 1 MB palette image) and measures, each in a
fresh subprocess, the peak resident memory (`ru_maxrss`; in brackets the peak of its private part, RssAnon, sampled
every 20 ms: the memory-mapped dataset's file pages count in RSS but are the kernel's to drop) of:
- eval: `load_source` + `requests_from_samples` + `generate` over every request in batches of 8 with a stub backend
  that decodes every image of its batch (as HFBackend's processor would) and answers `\\boxed{1}`;
- grpo: `rl_dataset('rl:<parquet>')` (prompts written to a memory-mapped Arrow file) + reading every row in
  batches of 8, which decodes every image (as the GRPO trainer's data loader does).
`--baseline REV` also measures the eval path with the package as it was at git revision REV (sizes up to 300 only:
that code decodes and keeps every image, 3 MB each). Data and caches live in a temporary folder removed at the end.
"""
import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r'''
import resource, sys, threading, time
t0 = time.perf_counter()
peak_anon = [0]

def watch():   # private (anonymous) memory, sampled: file-backed pages of the memory-mapped dataset are not in it
    while True:
        for line in open("/proc/self/status"):
            if line.startswith("RssAnon:"): peak_anon[0] = max(peak_anon[0], int(line.split()[1]))
        time.sleep(0.02)
threading.Thread(target=watch, daemon=True).start()
mode, path, cache = sys.argv[1], sys.argv[2], sys.argv[3]
n_img = 0
if mode == "eval":
    from coldstart_nb.data import load_source
    from coldstart_nb.generate import GenConfig, generate, requests_from_samples

    class Stub:
        name = "stub"
        def generate_batch(self, requests, cfg, seed):
            global n_img
            out = []
            for r in requests:
                for im in r.images:
                    im.getpixel((999, 999)); n_img += 1
                out.append([{"text": "\\boxed{1}", "finish": "stop", "n_tokens": 4}])
            return out

    samples = load_source("rl", path, progress=False)
    res = generate(Stub(), requests_from_samples(samples, "eval"), GenConfig(batch_size=8), progress=False)
    n = len(res)
else:
    from coldstart_nb.grpo import rl_dataset
    ds = rl_dataset("rl:" + path, cache_dir=cache)
    n = len(ds)
    for i in range(0, n, 8):
        for row in ds[i:i + 8]["images"]:
            for im in row:
                im.getpixel((999, 999)); n_img += 1
time.sleep(0.05)
print(n, n_img, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, peak_anon[0] // 1024, round(time.perf_counter() - t0, 1))
'''


def make_parquet(path: Path, n: int, group: int = 1000):
    "N rows of the RL schema, each a 1000x1000 flat-colour palette PNG (16 colours cycled), written in row groups."
    import pyarrow as pa
    import pyarrow.parquet as pq
    from PIL import Image
    pngs = []
    for c in range(16):
        buf = io.BytesIO()
        im = Image.new("P", (1000, 1000), 0)   # one palette colour: ~1 KB of PNG, decoded to a 3 MB RGB image
        im.putpalette([c * 16, 255 - c * 16, 128])
        im.save(buf, "PNG")
        pngs.append(buf.getvalue())
    schema = pa.schema([("images", pa.list_(pa.struct([("bytes", pa.binary()), ("path", pa.string())]))),
                        ("problem", pa.string()), ("answer", pa.string())])
    meta = {b"huggingface": b'{"info": {"features": {"images": {"feature": {"_type": "Image"}, "_type": "List"}, '
                            b'"problem": {"dtype": "string", "_type": "Value"}, "answer": {"dtype": "string", "_type": "Value"}}}}'}
    schema = schema.with_metadata(meta)
    with pq.ParquetWriter(path, schema) as w:
        for s in range(0, n, group):
            k = range(s, min(n, s + group))
            w.write_table(pa.table({"images": [[{"bytes": pngs[i % 16], "path": None}] for i in k],
                                    "problem": [f"<image>What is {i} + 1?" for i in k], "answer": [str(i + 1) for i in k]},
                                   schema=schema))


def measure(mode: str, data: Path, tmp: Path, pythonpath: str) -> dict:
    env = {**os.environ, "PYTHONPATH": pythonpath, "HF_DATASETS_CACHE": str(tmp / "hf"), "TQDM_DISABLE": "1",
           "HF_DATASETS_DISABLE_PROGRESS_BARS": "1", "HF_HUB_OFFLINE": "1"}
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", CHILD, mode, str(data), str(tmp / "rl")], env=env, capture_output=True, text=True, cwd=tmp,
                       timeout=900)
    if r.returncode != 0: raise RuntimeError(f"{mode} on {data.name} failed:\n{r.stderr[-3000:]}")
    n, n_img, rss, anon, secs = r.stdout.split()[-5:]
    return {"rows": int(n), "decoded": int(n_img), "peak_mb": int(rss), "anon_mb": int(anon), "secs": float(secs),
            "wall": time.perf_counter() - t}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="300,3000,30000")
    ap.add_argument("--baseline", default=None, help="git revision to measure the eval path of (sizes <= 300)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "memory.md"))
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    lines = ["| images (1000x1000) | parquet | code | eval peak RSS MB (anon) | eval s | GRPO prep peak RSS MB (anon) | GRPO s |",
             "|---:|---:|---|---:|---:|---:|---:|"]
    with tempfile.TemporaryDirectory(prefix="coldstart-membench-") as d:
        tmp = Path(d)
        old = None
        if a.baseline:
            old = tmp / "old"
            old.mkdir()
            arch = subprocess.run(["git", "-C", str(ROOT), "archive", a.baseline, "coldstart_nb"], capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(old)], input=arch, check=True)
        for n in sizes:
            data = tmp / f"rl-{n}.parquet"
            make_parquet(data, n)
            kb = data.stat().st_size // 1024
            if old is not None and n <= 300:
                e = measure("eval", data, tmp, str(old))
                lines.append(f"| {n:,} | {kb:,} KB | {a.baseline} | {e['peak_mb']:,} ({e['anon_mb']:,}) | {e['secs']} | - | - |")
                print(lines[-1], flush=True)
            e = measure("eval", data, tmp, str(ROOT))
            g = measure("grpo", data, tmp, str(ROOT))
            assert e["decoded"] == g["decoded"] == n, (e, g)
            lines.append(f"| {n:,} | {kb:,} KB | this branch | {e['peak_mb']:,} ({e['anon_mb']:,}) | {e['secs']} "
                         f"| {g['peak_mb']:,} ({g['anon_mb']:,}) | {g['secs']} |")
            print(lines[-1], flush=True)
            data.unlink()
    head = ["# Peak memory against dataset size (bench/memory.py)", "",
            "Each cell a fresh subprocess; every image decoded once (eval: stub backend, batches of 8; GRPO: reading the",
            f"prepared dataset in batches of 8). Machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}.", ""]
    Path(a.out).write_text("\n".join(head + lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
