"""GRPO throughput, time per step and actor MFU beside EasyR1's published performance baselines (issue 23 item 2).

EasyR1's rows are read from its `assets/baselines.md` (v0.3.2, 8 x H100, Geometry3k, rollout batch 512, n=5, global batch
128, prompt/response 2048/2048), committed verbatim as `data/fixtures/easyr1/baselines_performance.md`. Ours come from a
GPU run's results (`make gpu-smoke` writes `trainer_perf` into `checkpoints/smoke/smoke.json`; pass it with --gpu-json, or
keep it as bench/results/throughput_gpu.json): the same definitions (`coldstart_nb.track`: tokens / (step seconds x
devices); actor FLOPs / (update seconds x peak), the LM counted as EasyR1 counts it). Until a GPU run fills them, our
GPU rows say "not measured". A tiny GRPO run on this CPU is measured in every run of this script, to show the instrument
works end to end: its numbers are a CPU's, not comparable with any GPU row.

Usage: python bench/throughput.py [--gpu-json PATH] [--steps 4] [--out bench/results/throughput.md]
"""
import argparse
import json
import os
import re
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINES = ROOT / "data" / "fixtures" / "easyr1" / "baselines_performance.md"


def easyr1_rows() -> list[dict]:
    "The Qwen2.5-VL rows of EasyR1's performance table: size, GPUs, bits, batch, throughput, s/step, MFU."
    text = BASELINES.read_text()
    section = text.split("### [Qwen2.5-VL-Instruct]")[1].split("###")[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 10 or not cells[0][:1].isdigit(): continue
        rows.append({"size": cells[0], "gpus": cells[1], "bits": cells[2], "batch": cells[3],
                     "throughput": float(re.match(r"[\d.]+", cells[7]).group()), "s_per_step": float(cells[8].rstrip("s")),
                     "mfu": float(cells[9].rstrip("%")) / 100})
    return rows


def cpu_tiny(steps: int) -> dict:
    "A tiny GRPO run on this CPU: the per-step metrics the trainer logs (mean after the first log line)."
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    from coldstart_nb.embedded import ensure_embedded
    from coldstart_nb.grpo import train_grpo
    from coldstart_nb.recipes import load_recipe
    from coldstart_nb.track import perf_summary
    ensure_embedded(progress=False)
    with tempfile.TemporaryDirectory() as d:
        r = load_recipe("grpo", "tiny", output_dir=d, max_steps=steps, save_steps=10**6, resume=False, report_to="none",
                        completions_every=0, val_data="")
        trainer, _ = train_grpo(r)
        return perf_summary(trainer.state.log_history)


def fmt(v, pct=False):
    if v is None: return "not measured"
    return f"{v:.1%}" if pct else (f"{v:,.0f}" if v >= 100 else f"{v:.3g}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gpu-json", default=str(ROOT / "bench" / "results" / "throughput_gpu.json"))
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "throughput.md"))
    a = ap.parse_args()
    gpu = json.loads(Path(a.gpu_json).read_text()) if Path(a.gpu_json).exists() else None
    ours = (gpu or {}).get("trainer_perf", {}).get("grpo", {})
    cpu = cpu_tiny(a.steps)
    lines = ["| run | model | devices | tokens/s per device | s/step | actor MFU (LM, EasyR1's count) | ours / EasyR1 throughput |",
             "|---|---|---|---:|---:|---:|---:|"]
    for r in easyr1_rows():
        lines.append(f"| EasyR1 v0.3.2 (published) | Qwen2.5-VL-{r['size']} | {r['gpus']} ({r['bits']}, batch {r['batch']}) | "
                     f"{fmt(r['throughput'])} | {fmt(r['s_per_step'])} | {fmt(r['mfu'], True)} | |")
        if r["size"] == "3B" or (r["size"] == "7B" and r["batch"] == "1 / 2" and r["bits"] == "AMP" and "H100" in r["gpus"]):
            tp = ours.get("perf/throughput") if gpu and gpu.get("config", {}).get("preset") == f"qwen2.5-vl-{r['size'].lower()}" else None
            ratio = f"{tp / r['throughput']:.2f}" if tp else ""
            lines.append(f"| coldstart-nb (GRPO, TRL) | Qwen2.5-VL-{r['size']} | {gpu.get('device') if gpu else 'no GPU run yet'} | "
                         f"{fmt(tp)} | {fmt(ours.get('perf/time_per_step') if tp else None)} | "
                         f"{fmt(ours.get('perf/mfu_actor_lm') if tp else None, True)} | {ratio} |")
    lines.append(f"| coldstart-nb, this CPU (instrument check) | tiny (0.9M) | 1 CPU process | {fmt(cpu.get('perf/throughput'))} | "
                 f"{fmt(cpu.get('perf/time_per_step'))} | n/a (no CPU peak) | not comparable |")
    split = ", ".join(f"{k.split('/')[1]} {cpu[k]:.2f}s" for k in ("timing/generation_s", "timing/reward_s", "timing/logprob_s",
                                                                   "timing/update_s") if k in cpu)
    text = (f"# GRPO throughput beside EasyR1's published baselines\n\n`python bench/throughput.py` (tiny CPU run: {a.steps} steps, "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)\n\n" + "\n".join(lines) +
            f"\n\nThe CPU run's time per step splits into {split} (means after the first log line).\n\n"
            "EasyR1's settings (its table's notes): 8 x H100 80GB, vLLM TP 2, rollout batch 512, n=5, global batch 128, "
            "prompt/response 2048/2048, Geometry3k. A GPU row of ours is comparable only when run with the same settings "
            "(`make gpu-smoke` runs fewer and shorter rollouts on one GPU: its numbers bound, not match, a full step).\n")
    Path(a.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
