"""PyTorch loss criteria at a model's border: ``nn.CrossEntropyLoss()(output, target)``,
``F.cross_entropy(output, target)`` and friends, checked as torch 2.13 checks them.

The target's shape and dtype come from the data values (``frontends/data.py``: a loader's
labels are int64 of shape ``[batch]``), the input's from the model's output.
"""

from __future__ import annotations

from shapelint.ir import UNKNOWN, Node, Tensor
from shapelint.shapes import dims
from shapelint.shapes import loss_ops

NOT_LOSS = object()

# nn criterion class -> the torch.nn.functional function it calls
CRITERIA = {
    "CrossEntropyLoss": "cross_entropy", "NLLLoss": "nll_loss", "BCELoss": "binary_cross_entropy",
    "BCEWithLogitsLoss": "binary_cross_entropy_with_logits", "MSELoss": "mse_loss", "L1Loss": "l1_loss",
    "SmoothL1Loss": "smooth_l1_loss", "HuberLoss": "huber_loss",
}
FUNCTIONS = set(CRITERIA.values())
CLASS_OF = {function: name for name, function in CRITERIA.items()}
NN_ROOTS = ("torch.nn.", "torch.nn.modules.loss.")
FUNCTIONAL_ROOT = "torch.nn.functional."


class Criterion:
    """A constructed loss module: which functional it runs."""

    def __init__(self, name: str, function: str, site):
        self.name = name
        self.function = function
        self.site = site


def _shape(t):
    return tuple(t.shape) if isinstance(t, Tensor) and t.shape is not None else None


def _equal(a, b):
    """True / False when the two shapes are certainly equal / different, None otherwise."""
    if len(a) != len(b):
        return False
    verdicts = [dims.same(x, y) for x, y in zip(a, b)]
    if all(v is True for v in verdicts):
        return True
    if any(v is False for v in verdicts):
        return False
    return None


def _broadcast(a, b):
    """False when torch certainly cannot broadcast the two shapes, True when it certainly can."""
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        verdict = dims.same(x, y)
        if verdict is True or x == 1 or y == 1:
            continue
        if verdict is False:
            return False
        return None
    return True


def torch_size(shape) -> str:
    return "torch.Size([" + ", ".join(str(d) for d in shape) + "])"


def problem(function: str, inp, target, dtype):
    """(problem data, severity) for ``function(inp, target)`` in torch 2.13, or None."""
    if inp is None or target is None:
        return None
    if function == "cross_entropy" and len(inp) >= 2:
        same = _equal(inp, target)
        if same is True:
            if dtype is not None and not dtype.startswith("float"):
                return {"why": "probabilities dtype", "torch": "Expected floating point type for target with class "
                        f"probabilities, got {_torch_dtype(dtype)}"}, "error"
            return None
        if same is None:
            return None
        return _class_indices(inp, target, dtype, probabilities=True)
    if function == "nll_loss" and len(inp) >= 2:
        return _class_indices(inp, target, dtype, probabilities=False)
    if function in ("binary_cross_entropy", "binary_cross_entropy_with_logits"):
        if _equal(inp, target) is False:
            text = (f"Using a target size ({torch_size(target)}) that is different to the input size "
                    f"({torch_size(inp)}) is deprecated. Please ensure they have the same size."
                    if function == "binary_cross_entropy"
                    else f"Target size ({torch_size(target)}) must be the same as input size ({torch_size(inp)})")
            return {"why": "size", "torch": text}, "error"
        return None
    if function in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"):
        if _equal(inp, target) is not False:
            return None
        fits = _broadcast(inp, target)
        if fits is None:
            return None
        text = (f"Using a target size ({torch_size(target)}) that is different to the input size "
                f"({torch_size(inp)}). This will likely lead to incorrect results due to broadcasting. "
                f"Please ensure they have the same size.")
        if fits:
            return {"why": "broadcast", "torch": text}, "warning"
        return {"why": "size", "torch": text.split(". ")[0] + "; then the two cannot broadcast"}, "error"
    return None


def _torch_dtype(dtype: str) -> str:
    return {"int64": "Long", "int32": "Int", "uint8": "Byte", "float32": "Float", "float64": "Double",
            "bool": "Bool", "int16": "Short", "int8": "Char", "float16": "Half"}.get(dtype, dtype)


def _class_indices(inp, target, dtype, probabilities: bool):
    """nll_loss / cross_entropy with class indices: target of rank input.ndim - 1, int64 (or uint8)."""
    if len(target) != len(inp) - 1:
        if len(inp) == 2:
            text = "0D or 1D target tensor expected, multi-target not supported"
        elif len(inp) == 4:
            text = f"only batches of spatial targets supported (3D tensors) but got targets of dimension: {len(target)}"
        else:
            text = "Expected target size " + torch_size((inp[0],) + tuple(inp[2:]))
        hint = "probabilities" if probabilities and len(target) == len(inp) else None
        return {"why": "index rank", "torch": text, "hint": hint}, "error"
    if dims.same(inp[0], target[0]) is False:
        return {"why": "batch", "torch": f"Expected input batch_size ({inp[0]}) to match target batch_size "
                                         f"({target[0]})."}, "error"
    for a, b in zip(inp[2:], target[1:]):
        if dims.same(a, b) is False:
            return {"why": "spatial", "torch": "size mismatch (got input: " + torch_size(inp) + ", target: "
                                               + torch_size(target) + ")"}, "error"
    if dtype is not None and dtype not in ("int64", "uint8"):
        return {"why": "index dtype", "torch": f"expected target dtype to be Long or Byte, but got "
                                               f"{_torch_dtype(dtype)}"}, "error"
    return None


class TorchLosses:
    def __init__(self, frontend):
        self.frontend = frontend

    def qualified(self, qual, args, kwargs, node):
        for root in NN_ROOTS:
            if qual.startswith(root) and qual[len(root):] in CRITERIA:
                name = qual[len(root):]
                return Criterion(name, CRITERIA[name], node)
        if qual.startswith(FUNCTIONAL_ROOT) and qual[len(FUNCTIONAL_ROOT):] in FUNCTIONS:
            return self.apply(qual[len(FUNCTIONAL_ROOT):], f"F.{qual[len(FUNCTIONAL_ROOT):]}", args, kwargs, node)
        return NOT_LOSS

    def call(self, criterion: Criterion, args, kwargs, node):
        return self.apply(criterion.function, criterion.name, args, kwargs, node)

    def apply(self, function, label, args, kwargs, node):
        if args is UNKNOWN or kwargs is UNKNOWN:
            return UNKNOWN
        inp = args[0] if args else kwargs.get("input")
        target = args[1] if len(args) > 1 else kwargs.get("target")
        if not isinstance(inp, Tensor) or not isinstance(target, Tensor):
            return Tensor(None) if isinstance(inp, Tensor) else UNKNOWN
        # weights, reduction='none', ignore_index... change no shape rule checked here; a reduction
        # other than the mean gives another shape
        reduction = kwargs.get("reduction", "mean")
        found = problem(function, _shape(inp), _shape(target), getattr(target, "dtype", None))
        if found is not None:
            data, severity = found
            data.update(loss=label, method=label, origin=getattr(target, "origin", None),
                        given_target=_shape(target), given_output=_shape(inp), target=_shape(target),
                        output=_shape(inp), framework="torch")
            kind = loss_ops.target_problem(data) if severity == "error" else loss_ops.broadcast_problem(data)
            current = self.frontend.current
            if current is not None:
                current.nodes.append(Node(loss_ops.Border(label), {"problem": kind}, [],
                                          [inp.producer, target.producer], node, node, problems=[kind],
                                          speculative=self.frontend.interp.speculative > 0))
            if severity == "error":
                return Tensor(None)
        return Tensor(() if reduction in ("mean", "sum") else None)


__all__ = ["TorchLosses", "Criterion", "NOT_LOSS", "CRITERIA", "problem"]
