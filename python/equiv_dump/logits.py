"""The teacher-forced logits dump that `equiv teacher-forced` judges.

For each prompt the float32 reference generates `new_tokens` greedily (a full forward pass per
step); on that teacher sequence the float32 and the bf16 reference each run one forward pass,
and the port runs the same ids (on a device: context encoding of the prompt, then token
generation for every later token, inside the port callable). Positions 0 .. len - 2 are kept:
the logits there predict teacher[p + 1], as in equiv's built-in comparison.

    teacher_forced_dump("logits.safetensors", reference, port, [[1, 5, 9], [2, 7]],
                        new_tokens=16, model="my-llama", device="trn1-tp8")
    # equiv teacher-forced logits.safetensors

Tensors (docs/teacher-forced.md#from-a-dump): prompt_K.ref_fp32 (F32), prompt_K.ref_bf16
(BF16), prompt_K.target (the port's dtype), [positions, vocab]; prompt_K.ids (I64, the whole
teacher sequence, positions + 1 ids). Metadata: model, device, new_tokens,
prompt_K.prompt_length.
"""

from . import _deps
from .triples import bf16_copy, output_tensor
from .safetensors import write_safetensors

torch = _deps.torch()

SCHEMA = "equiv.teacher_forced_dump"


def _logits(output, what):
    t = output_tensor(output, what)
    if t.dim() == 3 and t.shape[0] == 1:
        t = t[0]
    if t.dim() != 2:
        raise ValueError(f"{what}: logits of shape {list(t.shape)}, expected [positions, vocab] "
                         "or [1, positions, vocab]")
    return t


def _greedy(reference, prompt, new_tokens):
    ids = list(prompt)
    for _ in range(new_tokens):
        logits = _logits(reference(torch.tensor([ids], dtype=torch.long)), "reference")
        ids.append(int(torch.argmax(logits[-1].float())))
    return ids


def default_port_call(port, ids, prompt_length):
    """port(ids): ids is a LongTensor [1, len]; a port that must encode the prompt first and
    then generate token by token can use prompt_length (give port_call=...)."""
    return port(ids)


def teacher_forced_dump(path, reference, port, prompts, *, new_tokens=0, bf16_reference=None,
                        port_call=None, with_ids=True, model="", device="", metadata=None):
    """Writes the dump and returns {"prompts", "positions", "vocab"}.

    `reference`: an HF-style causal LM in float32 (its output a tensor, a tuple starting with
    the logits, or an object with .logits); `bf16_reference` defaults to a bf16 copy of it.
    `port`: any callable taking ids [1, len] (port_call(port, ids, prompt_length) otherwise)
    and returning logits for every position."""
    port_call = port_call or default_port_call
    ref16 = bf16_reference if bf16_reference is not None else bf16_copy(reference)
    tensors = {}
    meta = {"equiv.schema": SCHEMA, "producer": "equiv_dump", "new_tokens": str(int(new_tokens))}
    if model:
        meta["model"] = model
    if device:
        meta["device"] = device
    meta.update(metadata or {})
    vocab, positions = None, 0
    with torch.no_grad():
        for k, prompt in enumerate(prompts):
            prompt = [int(i) for i in prompt]
            if not prompt:
                raise ValueError(f"prompts[{k}] is empty")
            teacher = _greedy(reference, prompt, new_tokens)
            n = len(teacher) - 1
            if n < 1:
                raise ValueError(f"prompts[{k}] has 1 id and no new tokens: nothing to compare "
                                 "(a position needs a next token)")
            ids = torch.tensor([teacher], dtype=torch.long)
            name = f"prompt_{k}"
            runs = {"ref_fp32": reference(ids), "ref_bf16": ref16(ids),
                    "target": port_call(port, ids, len(prompt))}
            for kind, out in runs.items():
                logits = _logits(out, f"{name}.{kind}")
                if logits.shape[0] < n:
                    raise ValueError(f"{name}.{kind}: {logits.shape[0]} rows of logits for a "
                                     f"teacher sequence of {len(teacher)} ids (expected >= {n})")
                logits = logits[:n].detach().cpu().contiguous()
                tensors[f"{name}.{kind}"] = logits.float() if kind == "ref_fp32" else logits
            vocab = vocab or tensors[f"{name}.ref_fp32"].shape[1]
            if with_ids:
                tensors[f"{name}.ids"] = torch.tensor(teacher, dtype=torch.long)
                meta[f"{name}.prompt_length"] = str(len(prompt))
            positions += n
    write_safetensors(path, tensors, meta)
    return {"prompts": len(prompts), "positions": positions, "vocab": vocab}
