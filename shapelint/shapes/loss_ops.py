"""Shape functions at a model's borders: the data fed in, and the targets a loss compares.

Each rule mirrors what the pinned framework does (Keras 3.15, torch 2.13), cited per function.
Shapes here carry the batch first; the batch a loader or ``fit`` feeds is not always the array's
first size (``fit`` slices batches), so batch sizes are never compared with each other here.
"""

from __future__ import annotations

from shapelint.ir import UNKNOWN, Problem
from shapelint.shapes.ops import OpSpec

# Keras loss identifiers (keras.losses.get / ALL_OBJECTS_DICT) -> the function their rule follows.
KERAS_LOSSES = {
    "categorical_crossentropy": "categorical_crossentropy", "CategoricalCrossentropy": "categorical_crossentropy",
    "sparse_categorical_crossentropy": "sparse_categorical_crossentropy",
    "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
    "binary_crossentropy": "binary_crossentropy", "BinaryCrossentropy": "binary_crossentropy",
    "mse": "mean_squared_error", "MSE": "mean_squared_error", "mean_squared_error": "mean_squared_error",
    "MeanSquaredError": "mean_squared_error",
    "mae": "mean_absolute_error", "MAE": "mean_absolute_error", "mean_absolute_error": "mean_absolute_error",
    "MeanAbsoluteError": "mean_absolute_error",
}
CROSSENTROPIES = ("categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy")


class KerasLoss:
    """A Keras loss given to ``compile``: which rule it follows, and whether it takes logits."""

    def __init__(self, name: str, from_logits=False, label=None):
        self.name = name
        self.from_logits = from_logits
        self.label = label or name


def keras_loss(value):
    """A ``compile(loss=...)`` argument as a KerasLoss, or None when it is not one shapelint knows."""
    if isinstance(value, KerasLoss):
        return value
    if isinstance(value, str) and value in KERAS_LOSSES:
        return KerasLoss(KERAS_LOSSES[value], label=value)
    qual = getattr(value, "qualname", None)
    if isinstance(qual, str) and ".losses." in qual:
        name = qual.rsplit(".", 1)[-1]
        if name in KERAS_LOSSES and name[0].islower():
            return KerasLoss(KERAS_LOSSES[name], label=name)
    return None


def keras_loss_class(qual: str, args, kwargs):
    """``keras.losses.CategoricalCrossentropy(from_logits=True)`` -> KerasLoss, else None."""
    if ".losses." not in qual or args is UNKNOWN or kwargs is UNKNOWN:
        return None
    name = qual.rsplit(".", 1)[-1]
    if name not in KERAS_LOSSES or not name[0].isupper():
        return None
    logits = kwargs.get("from_logits", args[0] if args else False)
    return KerasLoss(KERAS_LOSSES[name], logits if isinstance(logits, bool) else UNKNOWN, label=f"{name}()")


def _adjust_same_rank(target: tuple, output: tuple):
    """keras.src.losses.loss.squeeze_or_expand_to_same_rank(y_true, y_pred): when the ranks differ
    by exactly one and the longer ends in 1, that axis is squeezed (or a rank-1 target expanded)."""
    t, o = len(target), len(output)
    if t == o + 1 and target[-1] == 1:
        if o == 1:
            output = output + (1,)
        else:
            target = target[:-1]
    if o == t + 1 and output[-1] == 1:
        if t == 1:
            target = target + (1,)
        else:
            output = output[:-1]
    return target, output


def _differs(a, b) -> bool:
    return isinstance(a, int) and isinstance(b, int) and a != b


def keras_target_problem(loss: KerasLoss, target: tuple, output: tuple):
    """What Keras raises (or None) computing ``loss`` for targets of shape ``target`` against an
    output of shape ``output`` (keras/src/backend/tensorflow/nn.py, after the wrapper's rank
    adjustment).  Batch sizes (axis 0) are not compared."""
    if target is None or output is None:
        return None
    t, o = _adjust_same_rank(tuple(target), tuple(output))
    name = loss.name
    if name in ("categorical_crossentropy", "binary_crossentropy"):
        if len(t) != len(o):
            return {"why": "rank", "target": t, "output": o,
                    "keras": "Arguments `target` and `output` must have the same rank (ndim)"}
        for axis in range(1, len(t)):
            if _differs(t[axis], o[axis]):
                return {"why": "shape", "axis": axis, "target": t, "output": o,
                        "keras": "Arguments `target` and `output` must have the same shape"}
        return None
    if name == "sparse_categorical_crossentropy":
        if len(t) == len(o) and t and t[-1] == 1:
            t = t[:-1]
        if len(t) != len(o) - 1:
            return {"why": "sparse rank", "target": t, "output": o,
                    "keras": "Argument `output` must have rank (ndim) `target.ndim - 1`"}
        for axis in range(1, len(t)):
            if _differs(t[axis], o[axis]):
                return {"why": "shape", "axis": axis, "target": t, "output": o,
                        "keras": "Arguments `target` and `output` must have the same shape up until the last "
                                 "dimension"}
        return None
    if name in ("mean_squared_error", "mean_absolute_error") and len(t) == len(o):
        # ops.mean(ops.square(y_true - y_pred), axis=-1): the two must broadcast; with equal ranks
        # the batch axes meet each other, and any other axis must agree or be 1 on one side
        for axis in range(1, len(t)):
            if _differs(t[axis], o[axis]) and t[axis] != 1 and o[axis] != 1:
                return {"why": "broadcast", "axis": axis, "target": t, "output": o,
                        "keras": "Incompatible shapes"}
        return None
    return None


def keras_data_problem(spec: tuple, data: tuple, functional: bool):
    """What Keras 3 does with an array of shape ``data`` fed to a model whose input is ``spec``.

    ``Functional.input_spec`` (a functional model called through ``__call__``) compares every
    known size after squeezing one trailing 1 on each side (``allow_last_axis_squeeze``); then
    ``Functional._adjust_input_rank`` squeezes a trailing 1 of an array one rank longer, expands
    an array one rank shorter when the input ends in 1, and rejects any other rank difference.
    Returns (problem or None, the shape the layers then receive)."""
    spec, data = tuple(spec), tuple(data)
    if functional:
        s, d = spec, data
        if d and d[-1] == 1:
            d = d[:-1]
        if s and s[-1] == 1:
            s = s[:-1]
        for axis in range(1, min(len(s), len(d))):
            if _differs(s[axis], d[axis]):
                return {"why": "shape", "axis": axis, "keras": "is incompatible with the layer"}, None
    if len(data) == len(spec):
        adjusted = data
    elif len(data) == len(spec) + 1 and data[-1] == 1:
        adjusted = data[:-1]
    elif len(data) == len(spec) - 1 and spec[-1] == 1:
        adjusted = data + (1,)
    else:
        return {"why": "rank", "keras": "Invalid input shape"}, None
    return None, adjusted


class Border(OpSpec):
    """A check at a model's border, recorded at the call that feeds the model (``model.fit``,
    ``criterion(output, target)``).  Its problem was computed by the frontend; ``check`` returns it."""

    framework = "any"
    signature = ()
    size_monotone = True

    def __init__(self, name: str):
        self.name = name

    def checks_sizes(self, params):
        return False

    def check(self, params, inputs):
        problem = params.get("problem")
        return [problem] if problem is not None else []

    def infer(self, params, inputs):
        return params.get("output")


def data_problem(data) -> Problem:
    return Problem("data_input", data)


def target_problem(data) -> Problem:
    return Problem("loss_target", data)


def broadcast_problem(data) -> Problem:
    """Targets of another size that the loss broadcasts: torch warns and trains the wrong thing."""
    return Problem("loss_broadcast", data, fatal=False)


__all__ = ["KerasLoss", "keras_loss", "keras_loss_class", "keras_target_problem", "keras_data_problem", "Border",
           "data_problem", "target_problem", "broadcast_problem", "CROSSENTROPIES"]
