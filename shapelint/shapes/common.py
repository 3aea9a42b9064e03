"""Shape functions every framework shares: broadcasting, elementwise merges, concatenation.

NumPy's broadcasting rule is the same in PyTorch, TensorFlow and Keras, and so is the rule of
concatenation (same rank, equal sizes off the axis); a framework's own ops module imports
these instead of restating them.
"""

from __future__ import annotations

from shapelint.ir import Problem
from shapelint.shapes import dims
from shapelint.shapes.ops import OpSpec


def normalize_axis(axis, rank: int) -> int | None:
    if not isinstance(axis, int) or isinstance(axis, bool):
        return None
    if -rank <= axis < rank:
        return axis % rank
    return None


def broadcast(shapes: list) -> tuple:
    """(output, conflict) for elementwise ops; conflict is (axis, a, b) when provably wrong."""
    if any(s is None for s in shapes):
        return None, None
    rank = max(len(s) for s in shapes)
    out = []
    for i in range(1, rank + 1):
        column = [s[-i] for s in shapes if len(s) >= i]
        known = {d for d in column if isinstance(d, int) and d != 1}
        if len(known) > 1:
            a, b = list(dict.fromkeys(d for d in column if d in known))[:2]  # in operand order
            return None, (rank - i, a, b)
        if known:
            out.append(known.pop())
        elif all(d == 1 for d in column):
            out.append(1)
        else:
            # Different symbolic sizes must be equal for the op to run at all, so either one
            # describes every input it accepts (the input-size solver rules out the rest).
            symbolic = [d for d in column if d != 1]
            out.append(symbolic[0] if symbolic and all(d is not None for d in symbolic) else None)
    return tuple(reversed(out)), None


class Elementwise(OpSpec):
    """``a + b``, ``a * b``, torch.add / tf.multiply ...: broadcasting merge of two tensors."""

    merges = True

    def __init__(self, name: str):
        self.name = name

    def check(self, params, inputs):
        _, conflict = broadcast([s for s in inputs])
        if conflict:
            axis, a, b = conflict
            return [Problem("merge", {"op": self.name, "shapes": list(inputs), "axis": axis, "a": a, "b": b})]
        return []

    def infer(self, params, inputs):
        return broadcast(list(inputs))[0]


class InplaceElementwise(Elementwise):
    """``a += b``, ``a.add_(b)``: ``b`` broadcasts into ``a``, whose shape cannot grow."""

    merges = False  # unlike a plain add, equal-but-for-1 shapes can still fail here

    def check(self, params, inputs):
        problems = super().check(params, inputs)
        if problems or any(s is None for s in inputs):
            return problems
        left, right = inputs
        out, _ = broadcast(list(inputs))
        if out is None:
            return []
        if len(right) > len(left):
            return [Problem("merge", {"op": self.name, "shapes": list(inputs), "axis": None})]
        for axis, (have, grown) in enumerate(zip(left, out)):
            if isinstance(have, int) and isinstance(grown, int) and have != grown:
                return [Problem("merge", {"op": self.name, "shapes": list(inputs), "axis": axis,
                                          "a": have, "b": grown})]
        return []

    def infer(self, params, inputs):
        return inputs[0]


class Concat(OpSpec):
    """torch.cat / tf.concat: same rank, equal sizes off the concatenation axis."""

    merges = True

    def __init__(self, name: str):
        self.name = name

    def check(self, params, inputs):
        if not inputs or any(s is None for s in inputs):
            return []
        ranks = {len(s) for s in inputs}
        if len(ranks) > 1:
            return [Problem("merge", {"op": self.name, "shapes": list(inputs), "axis": None})]
        rank = ranks.pop()
        axis = normalize_axis(params.get("dim", 0), rank) if rank else None
        if axis is None:
            dim = params.get("dim", 0)
            if isinstance(dim, int) and not isinstance(dim, bool) and rank:
                return [Problem("rank", {"got": rank, "axis": dim, "what": f"{self.name} dim"})]
            return []
        for i in range(rank):
            if i == axis:
                continue
            known = {s[i] for s in inputs if isinstance(s[i], int)}
            if len(known) > 1:
                a, b = list(dict.fromkeys(s[i] for s in inputs if isinstance(s[i], int)))[:2]  # operand order
                return [Problem("merge", {"op": self.name, "shapes": list(inputs), "axis": i, "a": a, "b": b})]
        return []

    def infer(self, params, inputs):
        if not inputs or any(s is None for s in inputs):
            return None
        rank = len(inputs[0])
        axis = normalize_axis(params.get("dim", 0), rank)
        if axis is None:
            return None
        out = []
        for i in range(rank):
            if i == axis:
                total = 0
                for s in inputs:
                    total = dims.add(total, s[i])
                out.append(total)
            else:
                column = [s[i] for s in inputs]
                known = [d for d in column if isinstance(d, int)]
                # Unequal symbolic sizes must agree wherever the concat runs: either one will do.
                out.append(known[0] if known else (column[0] if all(d is not None for d in column) else None))
        return tuple(out)
