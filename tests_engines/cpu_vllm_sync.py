"""CPU-ONLY TEST-LANE SHIM: TRL's colocated weight sync for vLLM's CPU build.

TRL syncs the policy into its colocated vLLM engine tensor by tensor through vLLM's `model.load_weights`, which fails on
vLLM's CPU backend ("'Parameter' object has no attribute 'weight_loader'": the CPU backend repacks linear weights into
its own kernels). This replaces `trl.generation.vllm_generation.VLLMGeneration.sync_weights`, on machines without CUDA
only, with vLLM's `model_runner.reload_weights(weights_iterator=..., is_checkpoint_format=True)` over the same
(name, tensor) pairs TRL would send (TRL's own `_iter_named_params`, which gathers ZeRO-3 partitions), then resets the
prefix cache as TRL does. Nothing else of TRL changes, and on GPUs TRL's own path runs.

It is never part of the product's install. The engine lane loads it: `tools/engines_venv.sh` puts a `.pth` line in the
lane's venv that imports this file when `COLDSTART_LANE_SHIM` names it, and the Makefile sets that variable for
`make test-engines` and `make paper PRESET=rehearsal` only."""
import importlib.abc
import importlib.util
import sys

TARGET = "trl.generation.vllm_generation"
SYNCS: list[int] = []   # one entry per sync in this process (tests read it)


def cpu_sync_weights(self):
    "`VLLMGeneration.sync_weights` for vLLM's CPU backend (see the module docstring)."
    SYNCS.append(1)
    runner = self.llm.llm_engine.model_executor.driver_worker.model_runner
    runner.reload_weights(weights_iterator=((n, p.detach().clone()) for n, p in self._iter_named_params()), is_checkpoint_format=True)
    self.llm.reset_prefix_cache()


class PatchOnImport(importlib.abc.MetaPathFinder):
    "Patches TRL's `VLLMGeneration` right after its module is imported, where torch sees no CUDA."
    def find_spec(self, name, path, target=None):
        if name != TARGET: return None
        sys.meta_path.remove(self)
        try: spec = importlib.util.find_spec(name)
        finally: sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None: return spec
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            import torch
            if not torch.cuda.is_available(): module.VLLMGeneration.sync_weights = cpu_sync_weights
        spec.loader.exec_module = exec_module
        return spec


if TARGET in sys.modules:   # imported late: patch in place
    import torch
    if not torch.cuda.is_available(): sys.modules[TARGET].VLLMGeneration.sync_weights = cpu_sync_weights
elif not any(isinstance(f, PatchOnImport) for f in sys.meta_path):
    sys.meta_path.insert(0, PatchOnImport())
