"""Taking the pipeline to a cluster (issue 23 item 4), proven as far as one CPU machine can prove it.

- The SLURM scripts in `slurm/`, run with fake SLURM variables and stand-ins for `srun` and `scontrol` that record their
  argv (`srun` runs its command once per task with that task's SLURM variables, as srun does), render to the exact
  `accelerate launch` line of every training node and the exact `trl vllm-serve` line of the server node.
- accelerate itself reads the rendered multi-node line as one torchrun per machine (DeepSpeed's `standard` launcher,
  not pdsh), with the right node rank, node count, processes per node and rendezvous endpoint.
- A 2-"node" job on one host: two `accelerate launch` processes from the library's own launch command, machine ranks 0
  and 1, main process 127.0.0.1, one process each over gloo, train the tiny SFT preset for real.

Not proven here: NCCL between real nodes, the vLLM server on GPUs and TRL's NCCL weight transfer to it (GPU only)."""
import json
import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

BIN = Path(sys.executable).parent          # the venv's bin: where the printed commands' executables are
ACC_CFG = ROOT / "reports" / "configs" / "accelerate"
HANG_GUARD = 600                           # seconds: a bound for a hang, never a timing assertion

HOSTNAMES = r'''
def hostnames(spec):
    "SLURM's compressed host list ('gpu-[01-03],cpu-1') as names, as `scontrol show hostnames` prints them."
    out = []
    for part in re.findall(r"[^,\[]+(?:\[[^\]]*\])?", spec):
        m = re.fullmatch(r"(.*)\[(\d+)-(\d+)\]", part)
        out += [f"{m[1]}{i:0{len(m[2])}d}" for i in range(int(m[2]), int(m[3]) + 1)] if m else [part]
    return out
'''

SRUN = r'''
args, opts = sys.argv[1:], {}
while args and args[0].startswith("-"):            # the scripts pass srun's options as --key=value
    k, _, v = args.pop(0)[2:].partition("=")
    opts[k] = v
nodes = hostnames(opts.get("nodelist") or os.environ["SLURM_JOB_NODELIST"])
n = int(opts.get("ntasks", "1"))
procs = []
for i in range(n):                                 # one task per node, started together, as srun does
    env = {**os.environ, "SLURM_PROCID": str(i), "SLURM_NODEID": str(i), "SLURM_LOCALID": "0", "SLURM_NTASKS": str(n),
           "SLURMD_NODENAME": nodes[i], "SLURM_STEP_NODELIST": ",".join(nodes[:n])}
    procs.append(subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
tasks = []
for i, p in enumerate(procs):
    out, err = p.communicate()
    sys.stdout.write(out)
    sys.stderr.write(err)
    tasks.append({"procid": i, "node": nodes[i], "rc": p.returncode, "stdout": out, "stderr": err[-4000:]})
record = {"argv": sys.argv[1:], "opts": opts, "command": args, "tasks": tasks}
(Path(os.environ["STUB_LOG"]) / f"srun-{os.getpid()}.json").write_text(json.dumps(record))
sys.exit(max(t["rc"] for t in tasks) if tasks else 0)
'''

SCONTROL = r'''
(Path(os.environ["STUB_LOG"]) / f"scontrol-{os.getpid()}.json").write_text(json.dumps({"argv": sys.argv[1:]}))
if sys.argv[1:3] != ["show", "hostnames"]: sys.exit(f"stub scontrol knows only `show hostnames`, not {sys.argv[1:]}")
print("\n".join(hostnames(sys.argv[3])))
'''


def stub(path: Path, body: str):
    path.write_text(f"#!{sys.executable}\nimport json, os, re, subprocess, sys\nfrom pathlib import Path\n{HOSTNAMES}{body}")
    path.chmod(0o755)


def render(script: str, tmp: Path, **env) -> tuple[subprocess.CompletedProcess, dict]:
    "Run a `slurm/` script with DRY_RUN=1 under stub srun/scontrol; returns the run and the stubs' records by name."
    bin_dir, log = tmp / "bin", tmp / "log"
    bin_dir.mkdir(exist_ok=True)
    log.mkdir(exist_ok=True)
    stub(bin_dir / "srun", SRUN)
    stub(bin_dir / "scontrol", SCONTROL)
    mine = ("PRESET", "STAGES", "OVERRIDES", "NUM_GPUS", "GPUS_PER_NODE", "MAIN_PORT", "VLLM_PORT", "VLLM_TP", "COLDSTART_NB_ROOT")
    base = {k: v for k, v in os.environ.items() if k not in mine and not k.startswith("SLURM")}
    full = {**base, "PATH": f"{bin_dir}:{BIN}:{os.environ['PATH']}", "DRY_RUN": "1", "STUB_LOG": str(log), "SLURM_JOB_ID": "4242",
            "SLURM_SUBMIT_DIR": str(ROOT), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", **env}
    p = subprocess.run(["bash", str(ROOT / "slurm" / script)], cwd=tmp, env=full, capture_output=True, text=True, timeout=HANG_GUARD)
    records = {"srun": [], "scontrol": []}
    for f in sorted(log.glob("*.json")): records[f.name.split("-")[0]].append(json.loads(f.read_text()))
    return p, records


def commands(task: dict) -> list[list[str]]:
    "The command lines a task printed (`coldstart-reproduce --print-commands`), comments left out."
    return [shlex.split(line) for line in task["stdout"].splitlines() if line.strip() and not line.startswith("#")]


def launch(config: str, num_processes: int, stage: str, preset: str, machines: list[str] = (), over: list[str] = ()) -> list[str]:
    "The `accelerate launch` line we expect, spelled out flag by flag."
    return [str(BIN / "accelerate"), "launch", "--config_file", str(ACC_CFG / config), *machines, "--num_processes", str(num_processes),
            str(BIN / "coldstart-train"), stage, "--preset", preset, *over]


def test_single_node_script_renders_the_paper_training_steps(tmp_path):
    p, rec = render("train_1node.sbatch", tmp_path, SLURM_JOB_NODELIST="gpu-07", OVERRIDES="grpo.seed=1")
    assert p.returncode == 0, p.stderr[-3000:]
    [srun] = rec["srun"]
    assert srun["opts"] == {"nodes": "1", "ntasks": "1", "kill-on-bad-exit": "1"}
    assert srun["command"] == ["coldstart-reproduce", "--preset", "paper-3b", "--stages", "sft,grpo,rlonly", "--launch", "accelerate",
                               "--device", "gpu", "--print-commands", "grpo.seed=1"]
    [task] = srun["tasks"]
    assert task["rc"] == 0 and task["node"] == "gpu-07", task["stderr"]
    assert commands(task) == [launch("deepspeed_zero2.yaml", 4, "sft", "paper-3b"),          # the authors' SFT: 4 GPUs, ZeRO-2
                              launch("deepspeed_zero3.yaml", 8, "grpo", "paper-3b", over=["seed=1"]),
                              launch("deepspeed_zero3.yaml", 8, "grpo", "paper-3b-rlonly")]
    assert rec["scontrol"] == []


@pytest.fixture(scope="module")
def multinode(tmp_path_factory):
    "grpo_multinode.sbatch rendered on a 3-node job: gpu-01 and gpu-02 train, gpu-03 serves; steps grpo then rlonly."
    p, rec = render("grpo_multinode.sbatch", tmp_path_factory.mktemp("multinode"), SLURM_JOB_NODELIST="gpu-[01-03]", SLURM_NNODES="3")
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    return rec


OVER = ["num_gpus=16", 'vllm_mode="server"', 'vllm_server_host="gpu-03"', "vllm_server_port=8000"]   # JSON values are YAML values


def by_first_line_token(records: list, flag: str) -> dict:
    "srun records keyed by the value of `flag` in the first command their first task printed."
    out = {}
    for r in records:
        cmd = commands(r["tasks"][0])[0]
        out[cmd[cmd.index(flag) + 1]] = r
    return out


def test_multinode_script_reads_the_nodes_from_slurm(multinode):
    assert [r["argv"] for r in multinode["scontrol"]] == [["show", "hostnames", "gpu-[01-03]"]]
    assert len(multinode["srun"]) == 4                                   # a server and the trainers, for grpo and for rlonly
    for r in multinode["srun"]:
        assert all(t["rc"] == 0 for t in r["tasks"]), [t["stderr"] for t in r["tasks"]]


def test_server_node_runs_trl_vllm_serve_with_each_steps_start_model(multinode):
    servers = [r for r in multinode["srun"] if "--serve-vllm" in r["command"]]
    assert [r["opts"] for r in servers] == [{"nodes": "1", "ntasks": "1", "nodelist": "gpu-03", "kill-on-bad-exit": "1"}] * 2
    got = by_first_line_token(servers, "--model")
    serve = lambda model: [[str(BIN / "trl"), "vllm-serve", "--model", model, "--tensor-parallel-size", "1", "--max-model-len", "4096",
                            "--host", "0.0.0.0", "--port", "8000"]]
    assert set(got) == {str(ROOT / "checkpoints" / "sft-paper-3b" / "final"), "Qwen/Qwen2.5-VL-3B-Instruct"}   # grpo: SFT's model
    for model, r in got.items():
        [task] = r["tasks"]
        assert task["node"] == "gpu-03" and commands(task) == serve(model)


def test_training_nodes_run_the_same_launch_but_for_their_rank(multinode):
    trains = [r for r in multinode["srun"] if "--serve-vllm" not in r["command"]]
    assert [r["opts"] for r in trains] == [{"nodes": "2", "ntasks": "2", "ntasks-per-node": "1", "nodelist": "gpu-01,gpu-02",
                                            "kill-on-bad-exit": "1", "wait": "60"}] * 2
    got = by_first_line_token(trains, "--preset")
    assert set(got) == {"paper-3b", "paper-3b-rlonly"}
    for preset, r in got.items():
        assert [t["node"] for t in r["tasks"]] == ["gpu-01", "gpu-02"]
        for rank, task in enumerate(r["tasks"]):
            machines = ["--num_machines", "2", "--machine_rank", str(rank), "--main_process_ip", "gpu-01", "--main_process_port", "29500"]
            assert commands(task) == [launch("deepspeed_zero3_multinode.yaml", 16, "grpo", preset, machines, OVER)], (preset, rank)


def test_accelerate_reads_the_multinode_line_as_one_torchrun_per_machine(multinode, monkeypatch):
    "accelerate's own argument handling (the code its `launch` runs before starting torchrun) on the rendered lines."
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser
    from accelerate.utils import launch as acc_launch
    from accelerate.utils.launch import prepare_deepspeed_cmd_env
    monkeypatch.setattr(acc_launch, "is_port_in_use", lambda port: False)   # port 29500 is gpu-01's, whatever runs here
    [r] = [r for r in multinode["srun"] if "--serve-vllm" not in r["command"] and "paper-3b" in commands(r["tasks"][1])[0]]
    for rank, task in enumerate(r["tasks"]):
        cmd = commands(task)[0]
        args, defaults, _ = _validate_launch_command(launch_command_parser().parse_args(cmd[2:]))
        args.deepspeed_fields_from_accelerate_config = ",".join(defaults.deepspeed_config)
        pdsh, env = prepare_deepspeed_cmd_env(args)
        assert pdsh is None and args.deepspeed_multinode_launcher == "standard"   # torchrun on this machine, no ssh into others
        assert (args.nnodes, args.node_rank, args.nproc_per_node, args.rdzv_endpoint) == ("2", rank, "8", "gpu-01:29500")
        assert env["ACCELERATE_DEEPSPEED_CONFIG_FILE"] == "reports/configs/deepspeed/zero3.json"   # relative: launched from the root


def test_multinode_script_needs_a_server_node(tmp_path):
    p, rec = render("grpo_multinode.sbatch", tmp_path, SLURM_JOB_NODELIST="gpu-01")
    assert p.returncode == 2 and "N training nodes + 1 vLLM server node" in p.stderr
    assert rec["srun"] == []


def test_a_num_gpus_that_does_not_fill_the_machines_is_refused(capsys):
    from coldstart_nb.cli import reproduce_main
    with pytest.raises(SystemExit) as e:
        reproduce_main(["--preset", "paper-3b", "--stages", "grpo", "--num-machines", "2", "--machine-rank", "1", "--main-process-ip",
                        "gpu-01", "--gpus-per-machine", "8", "--device", "gpu", "--print-commands"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "nothing was run" in err and "num_gpus=8" in err and "override num_gpus=16" in err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def weights(folder: Path) -> dict:
    from transformers import Qwen2_5_VLForConditionalGeneration
    m = Qwen2_5_VLForConditionalGeneration.from_pretrained(folder)
    return {n: p.detach().clone() for n, p in m.named_parameters()}


def test_two_machines_on_one_host_train_the_tiny_preset(tmp_path):
    "Two `accelerate launch` processes, machine ranks 0 and 1 on 127.0.0.1, one training process each (gloo): tiny SFT, for real."
    from coldstart_nb.embedded import ensure_embedded
    from coldstart_nb.pipeline import Machines, launch_command, step
    _, model_dir = ensure_embedded(progress=False)
    port, out = free_port(), tmp_path / "sft"
    over = {"num_gpus": 2, "max_steps": 2, "save_steps": 2, "logging_steps": 1, "eval_fraction": 0.0, "output_dir": str(out)}
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "COLDSTART_NB_ROOT": str(ROOT),
           "LOGLEVEL": "INFO"}                                             # torchrun's agent logs its rendezvous
    cmds = [launch_command(step("sft"), "tiny", over, cpu=True, machines=Machines(2, rank, "127.0.0.1", port)) for rank in (0, 1)]
    for rank, cmd in enumerate(cmds):
        assert cmd[2:13] == ["--multi_gpu", "--num_machines", "2", "--machine_rank", str(rank), "--main_process_ip", "127.0.0.1",
                             "--main_process_port", str(port), "--num_processes", "2"]
    procs, logs = [], [tmp_path / f"machine{rank}.log" for rank in (0, 1)]
    for cmd, log in zip(cmds, logs):                                       # --no-results: no reports/results file from a test
        with open(log, "w") as f:
            procs.append(subprocess.Popen(cmd + ["--no-results"], cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT))
    try:
        codes = [p.wait(timeout=HANG_GUARD) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None: p.kill()
    text = [log.read_text() for log in logs]
    assert codes == [0, 0], "\n\n".join(t[-3000:] for t in text)
    for rank, t in enumerate(text):                                        # each machine's agent joined the same 2-process group
        for line in (f"group_rank={rank}", "group_world_size=2", f"global_ranks=[{rank}]", "global_world_sizes=[2]",
                     "master_addr=127.0.0.1"):
            assert line in t, (rank, line)
    assert "'processes': 2" in text[0]                                     # coldstart-train on global rank 0: WORLD_SIZE 2
    final = out / "final"
    assert (final / "model.safetensors").exists() and (out / "checkpoint-2").exists()
    start, end = weights(model_dir), weights(final)
    assert start.keys() == end.keys()
    changed = [n for n in start if not (start[n] == end[n]).all()]
    assert changed and any("language_model" in n for n in changed), changed[:5]   # the steps moved the LLM's weights
