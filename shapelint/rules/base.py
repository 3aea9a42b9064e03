"""What every rule module provides, and the helpers their messages share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from shapelint.ir import Finding, Model, Node
from shapelint.shapes.dims import format_dim, format_shape


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str  # error | warning | info
    summary: str
    default: bool = True
    kinds: tuple = ()  # problem kinds (from shape functions) this rule reports
    describe: Callable | None = None  # (problem, node, span_of) -> message
    check_model: Callable | None = None  # (model) -> iterable of Finding, for graph-level rules


def origin(node: Node, span_of, index: int = 0) -> str:
    """Where an op's input came from, for messages: 'from Conv2d at line 5' or 'the model input'."""
    source = node.sources[index] if index < len(node.sources) else None
    # Name the layer that gave the tensor its shape, not the activations and dropouts after it.
    seen = 0
    while (source is not None and seen < 64 and len(source.inputs) == 1 and source.sources
           and source.sources[0] is not None and source.output is not None and source.output == source.inputs[0]):
        source, seen = source.sources[0], seen + 1
    if source is None:
        # No layer produced it: the model's input for the data operand; for another operand it
        # may be the input again or a tensor made in the file (an explicit weight).
        return "from the model input" if index == 0 else "from a tensor no layer produced"
    return f"from {source.name} at {place(span_of(source.def_site))}"


def place(where) -> str:
    """'line 5', 'cell 2, line 5' in a notebook, 'models/blocks.py:5' in another file."""
    cell, path = getattr(where, "cell", None), getattr(where, "path", None)
    if path:
        return f"{path}:{where.line}"
    return f"cell {cell}, line {where.line}" if cell else f"line {where.line}"


def undefined_size(problem, node: Node, span_of) -> str:
    """A layer that sizes its weights from a dim Keras sees as None (declared None upstream)."""
    d = problem.data
    return (f"{node.name} needs a defined {d['needs']} (dim {d['axis']}) to create its weights, but Keras "
            f"builds the model with None there, as it depends on input sizes declared None "
            f"({origin(node, span_of)}; input {format_shape(node.inputs[0])})")


def batch_shape(shape) -> str:
    """A shape whose first dim is the batch a call feeds, shown as ``N``: ``[N, 5, 5, 10]``."""
    if shape is None:
        return "?"
    return "[" + ", ".join(["N"] + [format_dim(d) for d in list(shape)[1:]]) + "]" if len(shape) else "[]"


def axis_name(node: Node, axis: int) -> str:
    shape = node.inputs[0] if node.inputs else None
    n = getattr(node.op, "n", None)
    if shape is not None and n:
        spatial = {1: ["length"], 2: ["height", "width"], 3: ["depth", "height", "width"]}.get(n)
        first = len(shape) - n
        if spatial and first <= axis < len(shape):
            return f"{spatial[axis - first]} (dim {axis})"
    return f"dim {axis}"


def findings_for(rule: Rule, node: Node) -> list[Finding]:
    found = []
    for problem in node.problems:
        if problem.kind in rule.kinds:
            found.append(Finding(rule.code, node.def_site,
                                 lambda span_of, p=problem: _fed(rule.describe(p, node, span_of), node, span_of),
                                 node, problem))
    return found


def _fed(message: str, node: Node, span_of) -> str:
    """A layer re-checked at the sizes a call fed its model is reported at that call; say which."""
    if node.fed_from is None:
        return message
    at = place(span_of(node.fed_from.def_site))
    return f"{message}; that is the {node.name} at {at}, run on the sizes this call feeds"


__all__ = ["Rule", "origin", "axis_name", "batch_shape", "findings_for", "format_dim", "format_shape", "Model"]
