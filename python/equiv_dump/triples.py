"""Triples captured from PyTorch: the input and output of chosen module paths.

The 3-tensor method needs the three runs of one component on the SAME input (the fp32 input,
rounded to bf16 for the bf16 runs). So a capture records, through forward hooks, each chosen
module's input and output in a float32 run of the reference model (ref_fp32), then runs the
bfloat16 reference module and the port's module on that input: ref_bf16 and target. Each
triple checks one component in isolation, whatever the modules before it did.

    triples = capture(reference, port, ["model.layers.0.self_attn", "model.layers.0.mlp"],
                      input_ids)               # reference(input_ids) drives the fp32 run
    write_dump("dump.safetensors", triples)    # equiv compare dump.safetensors

The port is a torch module whose submodules sit at the same paths, or any callable: give
`port_paths={hf_path: port_path_or_callable}` where its structure differs (a fused QKV, a
device runtime). The hooks see keyword arguments too (HF attention and decoder layers take
theirs as keywords): torch >= 2.0 hooks with with_kwargs=True, and on older torch (Debian
bookworm has 1.13) a wrapper around the module's forward installed for the run only.
"""

import copy
import inspect
import json
from dataclasses import dataclass, field
from typing import Any, Optional

from . import _deps
from .components import component_of
from .safetensors import write_safetensors

torch = _deps.torch()

SCHEMA = "equiv.dump"
SCHEMA_VERSION = "1"
TRIPLE_KEY = "equiv.triple."  # + name: the triple's metadata, as JSON


@dataclass
class Triple:
    """One component's three outputs on one input, and what equiv needs to label it."""
    # "model.layers.0.mlp" (captured) or "model.layers.0.mlp/long_sequence" (fed); the whole
    # model (module path "") is "causal_lm".
    name: str
    module_path: str
    input_kind: str
    ref_fp32: Any
    ref_bf16: Any
    target: Any
    positions: Optional[list] = None
    input: Any = None  # the fp32 input (hidden states or ids), stored as NAME.input
    component: Optional[str] = None
    layer: Optional[int] = None
    extra: dict = field(default_factory=dict)  # more metadata, JSON-serialisable


def _map(obj, fn):
    """`fn` applied to every tensor in nested tuples, lists and dicts; the rest unchanged."""
    if isinstance(obj, torch.Tensor):
        return fn(obj)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a namedtuple
        return type(obj)(*(_map(v, fn) for v in obj))
    if isinstance(obj, (tuple, list)):
        return type(obj)(_map(v, fn) for v in obj)
    if isinstance(obj, dict):
        return {k: _map(v, fn) for k, v in obj.items()}
    return obj


def cast(obj, dtype):
    """Floating tensors in `obj` converted to `dtype` (rounded to nearest even for bf16);
    integer tensors (ids, positions) and everything else unchanged."""
    return _map(obj, lambda t: t.to(dtype) if t.is_floating_point() else t)


def _snapshot(obj):
    return _map(obj, lambda t: t.detach().clone())


def output_tensor(output, what):
    """The tensor of a module's output: itself, the first tensor of a tuple (HF attention
    returns (output, weights)), or .logits / .last_hidden_state of a ModelOutput."""
    if isinstance(output, torch.Tensor):
        return output
    for attribute in ("logits", "last_hidden_state"):
        value = getattr(output, attribute, None)
        if isinstance(value, torch.Tensor):
            return value
    if isinstance(output, (tuple, list)):
        for value in output:
            if isinstance(value, torch.Tensor):
                return value
    raise TypeError(f"{what}: the output is {type(output).__name__}, not a tensor, a tuple "
                    "starting with one, or an object with .logits or .last_hidden_state")


def submodule(model, path, what="the model"):
    """The module at `path` ("" is the model itself); KeyError naming the path otherwise."""
    if path == "":
        return model
    try:
        return model.get_submodule(path)
    except AttributeError:
        names = [n for n, _ in model.named_modules() if n]
        parent = path.rsplit(".", 1)[0]
        near = [n for n in names if n.startswith(parent)][:8] or names[:8]
        raise KeyError(f"{path!r} is not a module path of {what} (near it: {', '.join(near)})")


def _hooks_see_kwargs():
    params = inspect.signature(torch.nn.Module.register_forward_hook).parameters
    return "with_kwargs" in params


class Recorder:
    """Records (args, kwargs, output) of every call of the modules at `paths` while active.

    `hooks`: True for torch's forward hooks (torch >= 2.0, with keyword arguments), False for
    a wrapper around each module's forward, None for hooks when torch has them."""

    def __init__(self, model, paths, hooks=None):
        self.model, self.paths = model, list(paths)
        self.hooks = _hooks_see_kwargs() if hooks is None else hooks
        if self.hooks and not _hooks_see_kwargs():
            raise RuntimeError(f"torch {torch.__version__} has no forward hooks with keyword "
                               "arguments (torch >= 2.0); use hooks=False")
        self.calls = {p: [] for p in self.paths}
        self._undo = []

    def _install(self, module, calls):
        if self.hooks:
            pending = []
            pre = module.register_forward_pre_hook(
                lambda m, a, kw: pending.append((_snapshot(a), _snapshot(kw))), with_kwargs=True)
            post = module.register_forward_hook(
                lambda m, a, kw, out: calls.append((*pending.pop(), _snapshot(out))),
                with_kwargs=True)
            self._undo += [pre.remove, post.remove]
            return
        had_own = "forward" in module.__dict__
        original = module.forward

        def forward(*args, **kwargs):
            inputs = (_snapshot(args), _snapshot(kwargs))
            out = original(*args, **kwargs)
            calls.append((*inputs, _snapshot(out)))
            return out

        module.forward = forward

        def undo():
            if had_own:
                module.forward = original
            else:
                del module.forward
        self._undo.append(undo)

    def __enter__(self):
        try:
            for p in self.paths:
                self._install(submodule(self.model, p, "the reference"), self.calls[p])
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        while self._undo:
            self._undo.pop()()
        return False

    def one_call(self, path):
        calls = self.calls[path]
        if len(calls) != 1:
            raise RuntimeError(
                f"{path}: the reference run called this module {len(calls)} times; a capture "
                "takes one call per module (capture a module that runs once per forward pass, "
                "or call the model once)")
        return calls[0]


def bf16_copy(reference):
    """The bf16 reference: a copy of the float32 reference with every weight and buffer
    rounded to bf16 (as model.to(torch.bfloat16) does)."""
    return copy.deepcopy(reference).to(torch.bfloat16)


def port_callable(port, path, port_paths):
    """What runs the port's side of the component at `path`."""
    target = (port_paths or {}).get(path, path)
    if callable(target) and not isinstance(target, str):
        return target
    if isinstance(port, torch.nn.Module):
        return submodule(port, target, "the port")
    if target == "":
        return port
    raise TypeError(f"{path}: the port is a {type(port).__name__}, not a torch module, so it "
                    f"has no submodule {target!r}; give port_paths={{{path!r}: callable}}")


def squeeze_batch(t):
    """[1, n, f] -> [n, f] (as equiv squeezes a batch of 1); anything else unchanged."""
    return t[0] if t is not None and t.dim() == 3 and t.shape[0] == 1 else t


def _first_input(args, kwargs):
    for key in ("hidden_states", "input_ids", "x"):
        if isinstance(kwargs.get(key), torch.Tensor):
            return kwargs[key]
    for value in list(args) + list(kwargs.values()):
        if isinstance(value, torch.Tensor):
            return value
    return None


def _positions_of(kwargs, positions):
    if positions is not None:
        return [int(p) for p in torch.as_tensor(positions).reshape(-1)]
    ids = kwargs.get("position_ids")
    if isinstance(ids, torch.Tensor):
        return [int(p) for p in ids.reshape(-1)]
    return None


def run_three(path, invoke, ref_bf16_model, port, port_paths, port_dtype, ref_fp32=None,
              reference=None):
    """(ref_fp32, ref_bf16, target) of the component at `path`: invoke(module, dtype) calls a
    module on the input converted to dtype."""
    with torch.no_grad():
        if ref_fp32 is None:
            ref_fp32 = output_tensor(invoke(submodule(reference, path, "the reference"),
                                            torch.float32), f"{path} (ref_fp32)")
        ref_bf16 = output_tensor(invoke(submodule(ref_bf16_model, path, "the bf16 reference"),
                                        torch.bfloat16), f"{path} (ref_bf16)")
        target = output_tensor(invoke(port_callable(port, path, port_paths), port_dtype),
                               f"{path} (target)")
    return ref_fp32, ref_bf16, target


def capture(reference, port, paths, *args, port_paths=None, bf16_reference=None,
            port_dtype=None, input_kind="captured", positions=None, hooks=None, **kwargs):
    """Triples of the modules at `paths` (HF module paths, "" for the whole model).

    reference(*args, **kwargs) runs once in float32 (floating arguments converted) with hooks
    recording each path's input and output. Then, on each recorded input, the bf16 reference
    (`bf16_reference`, default a bf16 copy of `reference`) gives ref_bf16, and the port's
    module (at the same path, or `port_paths[path]`: a port module path or a callable) gives
    the target, its floating inputs converted to `port_dtype` (default bfloat16).
    `positions` (default: the call's position_ids, if any) go into the metadata."""
    if isinstance(paths, str):
        paths = [paths]
    port_dtype = port_dtype or torch.bfloat16
    with torch.no_grad(), Recorder(reference, paths, hooks) as recorder:
        reference(*cast(args, torch.float32), **cast(kwargs, torch.float32))
    ref16 = bf16_reference if bf16_reference is not None else bf16_copy(reference)
    triples = []
    for path in paths:
        a, kw, out = recorder.one_call(path)
        ref_fp32 = output_tensor(out, f"{path} (ref_fp32)")

        def invoke(module, dtype, a=a, kw=kw):
            return module(*cast(a, dtype), **cast(kw, dtype))

        r32, r16, target = run_three(path, invoke, ref16, port, port_paths, port_dtype,
                                     ref_fp32=ref_fp32)
        kind, layer = _label(path)
        triples.append(Triple(name=path or "causal_lm", module_path=path, input_kind=input_kind,
                              ref_fp32=r32, ref_bf16=r16, target=target,
                              positions=_positions_of(kw, positions), input=_first_input(a, kw),
                              component=kind, layer=layer))
    return triples


def _label(path):
    try:
        kind, layer, _ = component_of(path)
        return kind, layer
    except ValueError:
        return None, None


def _stored(t, name):
    t = squeeze_batch(t.detach().cpu())
    if not t.is_floating_point():
        raise TypeError(f"{name}: dtype {t.dtype} is not floating; equiv compares floating "
                        "outputs (f32, bf16, f16, f64)")
    return t.contiguous()


def write_dump(path, triples, metadata=None, store_inputs=True):
    """Writes triples as equiv reads them: NAME.ref_fp32 (F32), NAME.ref_bf16 (BF16),
    NAME.target (its own dtype), NAME.input (when known and store_inputs), a batch of 1
    squeezed; per triple the metadata key "equiv.triple.NAME" holds JSON {"module_path",
    "component", "layer", "input_kind", "positions"}. Returns the number of triples."""
    tensors = {}
    meta = {"equiv.schema": SCHEMA, "equiv.schema_version": SCHEMA_VERSION,
            "producer": "equiv_dump"}
    meta.update(metadata or {})
    for t in triples:
        if f"{t.name}.ref_fp32" in tensors:
            raise ValueError(f"two triples are named {t.name!r}")
        tensors[f"{t.name}.ref_fp32"] = _stored(t.ref_fp32, f"{t.name}.ref_fp32").float()
        tensors[f"{t.name}.ref_bf16"] = _stored(t.ref_bf16, f"{t.name}.ref_bf16")
        tensors[f"{t.name}.target"] = _stored(t.target, f"{t.name}.target")
        if store_inputs and t.input is not None:
            x = squeeze_batch(t.input.detach().cpu())
            tensors[f"{t.name}.input"] = (x.float() if x.is_floating_point() else x.long())
        meta[TRIPLE_KEY + t.name] = json.dumps(
            {"module_path": t.module_path, "component": t.component, "layer": t.layer,
             "input_kind": t.input_kind, "positions": t.positions, **t.extra},
            separators=(",", ":"))
    write_safetensors(path, tensors, meta)
    return len(triples)
