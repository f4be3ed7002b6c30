"One GRPO variant: recipe from an exp YAML + key=value overrides, trained with coldstart_nb.grpo.train_grpo; log summary to exp/out/grpo/<name>.json."
import sys, yaml
from common import *
from coldstart_nb.grpo import GRPORecipe, batch_plan, train_grpo
name, cfg, over = sys.argv[1], sys.argv[2], dict(o.split("=", 1) for o in sys.argv[3:])
d = yaml.safe_load(open(cfg)); d.update({k: yaml.safe_load(v) for k, v in over.items()})
d.pop("variant", None)
if d.get("rl_system") == "SFT":
    from coldstart_nb.prompts import SFT_SYSTEM_PROMPT; d["rl_system"] = SFT_SYSTEM_PROMPT   # rollouts with the SFT/eval system prompt
d["output_dir"] = f"checkpoints/exp13-{name}"
r = GRPORecipe.from_dict(d); print(r.to_dict(), batch_plan(r), flush=True)
t = time.time(); trainer, _ = train_grpo(r); sec = time.time() - t
h = [x for x in trainer.state.log_history if "reward" in x]
keys = ["reward", "pattern/rate", "pattern/acc_with", "pattern/acc_without", "frac_zero_variance_groups", "frac_zero_variance_after_refill", "refill_rounds", "kl", "completions/mean_length", "clip_ratio/high", "grad_norm", "loss"]
curve = [{k: x.get(k) for k in ["step"] + keys} for x in h]
def avg(k, sl): v = [c[k] for c in curve[sl] if c.get(k) is not None]; return round(sum(v) / len(v), 4) if v else None
q = max(1, len(curve) // 4)
summ = {"name": name, "recipe": r.to_dict(), "seconds": round(sec, 1), "steps": trainer.state.global_step, "sec_per_step": round(sec / max(1, trainer.state.global_step), 2),
        **{f"{k}_first_quarter": avg(k, slice(0, q)) for k in keys[:2] + ["kl"]}, **{f"{k}_last_quarter": avg(k, slice(-q, None)) for k in keys[:2] + ["kl", "refill_rounds"]},
        "curve": curve}
save(f"grpo/{name}.json", summ); print({k: v for k, v in summ.items() if k not in ("curve", "recipe")}, flush=True)
