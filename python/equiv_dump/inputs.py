"""The inputs `equiv inputs` writes, read and fed to a reference and a port.

The layout (python/README.md#the-inputs-folder), one folder per component kind and input kind:

    DIR/<component>/<input_kind>/hidden.npy     float32 [n, features] (rotary: q | k columns)
    DIR/<component>/<input_kind>/ids.npy        int64 [n], instead of hidden (embedding,
                                                causal_lm)
    DIR/<component>/<input_kind>/positions.npy  int64 [n], optional (default 0 .. n-1)

`<component>` is an equiv component kind (mlp, attention, decoder_layer, ...) and
`<input_kind>` an input kind (normal, uniform, outlier_channels, small_magnitude,
long_sequence). Anything else in DIR (a manifest, a README, other files or folders) is
ignored, and so is a folder with neither hidden.npy nor ids.npy.

    items = load_inputs("inputs/")
    triples = feed(reference, port, ["model.layers.0.self_attn"], items)
    write_dump("dump.safetensors", triples)
"""

import os
from dataclasses import dataclass
from typing import Any, Optional

from . import _deps
from .triples import Triple, run_three, bf16_copy, squeeze_batch
from .components import component_of

np = _deps.numpy()


@dataclass
class InputItem:
    component: str  # the folder: "mlp"
    kind: str  # the subfolder: "long_sequence"
    hidden: Optional[Any] = None  # numpy float32 [n, features]
    ids: Optional[Any] = None  # numpy int64 [n]
    positions: Optional[Any] = None  # numpy int64 [n]
    directory: str = ""

    @property
    def rows(self):
        return len(self.ids) if self.ids is not None else self.hidden.shape[0]


def _load(path, what, kinds, rank):
    a = np.load(path, allow_pickle=False)
    if a.ndim == rank + 1 and a.shape[0] == 1:
        a = a[0]  # a batch of 1
    if a.ndim != rank or a.dtype.kind not in kinds:
        expected = "floating [n, features]" if rank == 2 else "integer [n]"
        raise ValueError(f"{path}: {what} is {a.dtype} {list(a.shape)}, expected {expected}")
    return a


def load_inputs(directory):
    """Every input under `directory`, sorted by (component, kind)."""
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{directory}: not a folder of inputs (equiv inputs --out DIR)")
    items = []
    for component in sorted(os.listdir(directory)):
        cdir = os.path.join(directory, component)
        if not os.path.isdir(cdir):
            continue
        for kind in sorted(os.listdir(cdir)):
            kdir = os.path.join(cdir, kind)
            files = {f: os.path.join(kdir, f) for f in ("hidden.npy", "ids.npy", "positions.npy")}
            if not os.path.isdir(kdir) or not any(os.path.isfile(files[f])
                                                  for f in ("hidden.npy", "ids.npy")):
                continue
            item = InputItem(component, kind, directory=kdir)
            if os.path.isfile(files["hidden.npy"]):
                item.hidden = _load(files["hidden.npy"], "hidden", "f", 2).astype(np.float32)
            if os.path.isfile(files["ids.npy"]):
                item.ids = _load(files["ids.npy"], "ids", "iu", 1).astype(np.int64)
            if item.hidden is not None and item.ids is not None:
                raise ValueError(f"{kdir}: both hidden.npy and ids.npy; an input is one of them")
            if os.path.isfile(files["positions.npy"]):
                item.positions = _load(files["positions.npy"], "positions", "iu", 1)
                item.positions = item.positions.astype(np.int64)
                if len(item.positions) != item.rows:
                    raise ValueError(f"{files['positions.npy']}: {len(item.positions)} positions "
                                     f"for {item.rows} rows")
            items.append(item)
    return items


def default_call(module, x, positions):
    """module(x), or module(x, positions) when the component takes positions; x is [1, n, f]
    (or [1, n] ids) and positions [1, n]. HF attention and decoder layers take other
    arguments (position_embeddings, a mask): give feed() a call for them."""
    return module(x) if positions is None else module(x, positions)


def feed(reference, port, paths, inputs, *, call=None, components=None, kinds=None,
         port_paths=None, bf16_reference=None, port_dtype=None):
    """Triples of the modules at `paths` on the inputs of their component kind.

    `inputs`: a folder (load_inputs) or its items. Each path's kind comes from the llama
    table (components.py) or `components={path: kind}`. `call`: how a module is called,
    call(module, x, positions) -> output; one function, or a dict by path or kind (default
    default_call). The fp32 reference gets x in float32, the bf16 reference in bf16, the port
    (its module at the same path, or port_paths[path]) in `port_dtype` (default bf16).
    Triples are named "PATH/KIND"."""
    torch = _deps.torch()
    items = load_inputs(inputs) if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    if isinstance(paths, str):
        paths = [paths]
    port_dtype = port_dtype or torch.bfloat16
    ref16 = bf16_reference if bf16_reference is not None else bf16_copy(reference)
    triples = []
    for path in paths:
        if components and path in components:
            kind_name, layer, takes = components[path], None, "hidden+positions"
        else:
            kind_name, layer, takes = component_of(path)
        mine = [i for i in items if i.component == kind_name and (kinds is None or i.kind in kinds)]
        if not mine:
            have = sorted({f"{i.component}/{i.kind}" for i in items})
            raise ValueError(f"{path}: no inputs for component {kind_name!r}"
                             f"{' of kinds ' + ', '.join(kinds) if kinds else ''} (there are: "
                             f"{', '.join(have) or 'none'})")
        fn = call.get(path, call.get(kind_name)) if isinstance(call, dict) else call
        fn = fn or default_call
        for item in mine:
            n = item.rows
            pos = item.positions if item.positions is not None else np.arange(n, dtype=np.int64)
            positions = torch.from_numpy(pos)[None] if takes == "hidden+positions" else None
            if item.ids is not None:
                x = torch.from_numpy(item.ids)[None]
            else:
                x = torch.from_numpy(item.hidden)[None]

            def invoke(module, dtype, x=x, positions=positions, fn=fn):
                return fn(module, x.to(dtype) if x.is_floating_point() else x, positions)

            r32, r16, target = run_three(path, invoke, ref16, port, port_paths, port_dtype,
                                         reference=reference)
            triples.append(Triple(name=f"{path or 'causal_lm'}/{item.kind}", module_path=path,
                                  input_kind=item.kind, ref_fp32=r32, ref_bf16=r16,
                                  target=target, positions=[int(p) for p in pos],
                                  input=squeeze_batch(x), component=kind_name, layer=layer))
    return triples
