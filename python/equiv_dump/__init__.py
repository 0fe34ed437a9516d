"""equiv_dump: capture 3-tensor triples and teacher-forced logits from PyTorch for equiv.

Importable from a checkout with no install step (``PYTHONPATH=python``). Writing and reading
safetensors needs numpy only; capturing needs torch too (Debian's python3-numpy and
python3-torch: ``scripts/bootstrap.sh --with-python``). The guide is python/README.md.

    import equiv_dump
    triples = equiv_dump.capture(reference, port, ["model.layers.0.mlp"], input_ids)
    equiv_dump.write_dump("dump.safetensors", triples)  # then: equiv compare dump.safetensors
    equiv_dump.teacher_forced_dump("logits.safetensors", reference, port, prompts,
                                   new_tokens=16)  # then: equiv teacher-forced logits.safetensors
"""

import importlib

# Public name -> the submodule that defines it. Submodules are imported on first use, so
# `import equiv_dump` works without numpy or torch and a missing one is named when needed.
_EXPORTS = {
    "write_safetensors": "safetensors",
    "read_safetensors": "safetensors",
    "bf16_bits": "safetensors",
    "Bf16": "safetensors",
    "SafetensorsDump": "safetensors",
    "Triple": "triples",
    "capture": "triples",
    "write_dump": "triples",
    "InputItem": "inputs",
    "load_inputs": "inputs",
    "feed": "inputs",
    "teacher_forced_dump": "logits",
    "component_of": "components",
    "COMPONENTS": "components",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'equiv_dump' has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_EXPORTS[name]}")
    value = getattr(module, name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
