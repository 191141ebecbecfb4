"""A GPU slot's memory share (worker/sandbox/attach-model-and-gpu.ts sets SANDPIT_GPU_MEMORY_FRACTION).

PyTorch has no environment variable for a per-process memory cap, so this applies
torch.cuda.set_per_process_memory_fraction right after torch is first imported, and costs nothing
to programs that never import it.
"""
import importlib.abc
import importlib.machinery
import os
import sys

_FRACTION = os.environ.get("SANDPIT_GPU_MEMORY_FRACTION")


class _ShareOnTorchImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "torch":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_share(module):
            exec_module(module)
            try:
                if module.cuda.is_available():
                    for device in range(module.cuda.device_count()):
                        module.cuda.set_per_process_memory_fraction(float(_FRACTION), device)
            except Exception as error:  # a program without a GPU still runs
                print(f"sandpit: GPU memory share not applied: {error}", file=sys.stderr)

        spec.loader.exec_module = exec_and_share
        return spec


if _FRACTION:
    sys.meta_path.insert(0, _ShareOnTorchImport())
