"""The frontend core: what every framework frontend shares, and the hooks it gives the interpreter.

The interpreter (``frontends/interp.py``) asks its hooks object whenever a value is not plain
Python: calling a framework object, reading an attribute of a tensor, adding two tensors...
A frontend overrides the hooks it needs; every default answers UNKNOWN, so an unmodelled
construct silences checks instead of guessing.

The core also records the model graph (``apply``: one node per op application, its problems
from the op's shape function), runs a model's code with findings going to that model
(``run_model``), and builds the symbolic input a model gets when nothing declares one
(``symbolic_input``, from what the first op that consumes the input implies about it).

A new frontend subclasses ``FrameworkHooks``, sets ``framework``, overrides the hooks its
values need, returns ``ExternalCall`` values for methods it models (``model.add``), subclasses
``StatefulValue`` for values the program mutates, and lists itself in ``frontends.FRONTENDS``.
"""

from __future__ import annotations

import re

import libcst as cst

from shapelint.frontends.interp import UNKNOWN, BudgetExceeded, Interpreter
from shapelint.ir import Model, Node, Tensor
from shapelint.shapes import dims

# Symbols of the spatial sizes of an input nobody declared, by spatial rank.
SPATIAL_SYMBOLS = {0: (), 1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


class FrameworkHooks:
    framework = "?"
    # The batch size of an input nobody declared: a symbol (torch) or None (TF's unknown batch).
    symbolic_batch = None
    interpreter_class = Interpreter

    def __init__(self, module: cst.Module, inputs: dict | None = None):
        self.module = module
        self.inputs = inputs or {}  # model name -> shape from config or the command line
        self.interp = self.interpreter_class(module, self)
        self.current: Model | None = None  # the model that applications are recorded into
        self.models: list[Model] = []
        # While an input's shape is being discovered: the probe tensor, and the first op
        # that consumes it as (op, params, input shapes).
        self.probe: Tensor | None = None
        self.first_consumer = None

    # ----- graph recording ------------------------------------------------------------------

    def apply(self, op, params: dict, tensors: list, call_site, def_site=None) -> Tensor:
        """Apply ``op`` to ``tensors``: record the node in the current model, return its output.

        ``def_site`` is where the layer is defined (the call site for a functional op)."""
        shapes = [t.shape for t in tensors]
        if self.probe is not None and self.first_consumer is None and tensors and tensors[0] is self.probe:
            self.first_consumer = (op, params, shapes)
        node = Node(op, params, shapes, [t.producer for t in tensors], call_site,
                    call_site if def_site is None else def_site, speculative=self.interp.speculative > 0,
                    anchor=self.interp.anchor)
        node.problems = op.check(params, shapes)
        node.output = None if any(p.fatal for p in node.problems) else op.infer(params, shapes)
        if self.current is not None:
            self.current.nodes.append(node)
        return Tensor(node.output, node, framework=self.framework)

    def record_problems(self, op, params: dict, problems: list, site) -> None:
        """Problems found where a layer is constructed, as a node without inputs."""
        if problems and self.current is not None:
            self.current.nodes.append(Node(op, params, [], [], site, site, problems=list(problems),
                                           speculative=self.interp.speculative > 0, anchor=self.interp.anchor))

    def run_model(self, model: Model, body):
        """Run ``body()`` recording into ``model``; its value, or UNKNOWN when the budget ran out."""
        saved = self.current
        self.current = model
        try:
            return body()
        except BudgetExceeded:
            return UNKNOWN
        finally:
            self.current = saved

    def declared_input(self, name: str, node) -> tuple:
        """(shape, source) from the configuration or a ``# shapelint: input=...`` comment, else (None, None)."""
        shape = self.inputs.get(name, self.inputs.get("*"))
        if shape is not None:
            return tuple(shape), "configuration"
        comment = input_comment(node)
        if comment is not None:
            return comment, "comment"
        return None, None

    def discover_input(self, name: str, site, call) -> tuple | None:
        """Run ``call(probe)`` once on an input of unknown shape, recording nothing, to find the
        first op that consumes it; the symbolic input that op implies, or None."""
        probe = Tensor(None, framework=self.framework)
        saved = self.probe, self.first_consumer
        self.probe, self.first_consumer = probe, None
        try:
            self.run_model(Model(name, self.framework, site), lambda: call(probe))
            return self.symbolic_input(self.first_consumer)
        finally:
            self.probe, self.first_consumer = saved

    def symbolic_input(self, first) -> tuple | None:
        """The input the first consuming op ``(op, params, input shapes)`` implies: its channels
        (or a symbol C), spatial sizes as symbols, the batch as ``symbolic_batch``."""
        if first is None:
            return None
        op, params, shapes = first
        implied = op.implied_input(params, shapes)
        if implied is None or implied.spatial_rank not in SPATIAL_SYMBOLS:
            return None
        spatial = tuple(dims.symbol(s) for s in SPATIAL_SYMBOLS[implied.spatial_rank])
        channels = implied.channels if implied.channels is not None else dims.symbol("C")
        if implied.channels_last:
            return (self.symbolic_batch,) + spatial + (channels,)
        return (self.symbolic_batch, channels) + spatial

    # calls and attributes of non-Python values
    def call(self, func, args, kwargs, node):
        return UNKNOWN

    def attr(self, owner, name, node):
        return UNKNOWN

    def instance_attr(self, instance, name, node):
        return UNKNOWN

    def super_attr(self, proxy, name):
        return UNKNOWN

    def attribute_set(self, instance, name, value):
        pass

    def certainly_lacks(self, instance, name) -> bool:
        """True only when an instance of a framework base class surely has no attribute ``name``
        (the file never set it); ``hasattr`` / ``getattr(..., default)`` then answer for sure."""
        return False

    def instance_created(self, instance, node):
        pass

    # operators
    def binary(self, op_type, left, right, node):
        return UNKNOWN

    def augmented(self, op_type, left, right, node):
        """``left op= right`` where ``left`` is a tensor; by default like ``left op right``."""
        return self.binary(op_type, left, right, node)

    def unary(self, value, node):
        return UNKNOWN

    def subscript(self, value, index, node):
        return UNKNOWN

    def set_item(self, owner, key, value):
        pass

    # control flow
    def truth(self, value):
        return None

    def iterate(self, value):
        return None

    def length(self, value):
        return UNKNOWN

    def enter(self, value):
        return UNKNOWN

    def fatal_nodes(self) -> list:
        """Every node recorded so far (in order) whose problems make the framework raise, outside
        speculation: a loop over data asks before and after running its body."""
        models = list(getattr(self, "models", ()))
        current = getattr(self, "current", None)
        if current is not None and all(current is not m for m in models):
            models.append(current)
        return [n for m in models for n in m.nodes if not n.speculative and any(p.fatal for p in n.problems)]

    # speculation: what a value becomes when a branch or loop may have changed it
    def merge_tensors(self, a: Tensor, b: Tensor) -> Tensor:
        if a.shape is None or b.shape is None or len(a.shape) != len(b.shape):
            return Tensor(None, framework=a.framework)
        return Tensor(tuple(x if dims.same(x, y) else None for x, y in zip(a.shape, b.shape)), framework=a.framework)

    def forget(self, value):
        return Tensor(None, framework=value.framework) if isinstance(value, Tensor) else UNKNOWN


INPUT_COMMENT = re.compile(r"#\s*shapelint:\s*input\s*=\s*[\[(]([^\])]*)[\])]")


def parse_shape(text: str, allow_unknown: bool = False) -> tuple | None:
    """``1,3,32,32`` / ``[1, 3, 32, 32]`` / ``1x3x32x32``; with ``allow_unknown``, ``None``/``?``
    entries (an unknown batch) become None."""
    shape = []
    for part in text.strip().strip("[]()").replace("x", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if part.isdigit():
            shape.append(int(part))
        elif allow_unknown and part in ("None", "?", "-1"):
            shape.append(None)
        else:
            return None
    return tuple(shape) or None


def input_comment(node, allow_unknown: bool = False) -> tuple | None:
    """``# shapelint: input=(1, 3, 32, 32)`` on or just above a class, def or statement."""
    if node is None:
        return None
    comments = [line.comment.value for line in getattr(node, "leading_lines", ()) if line.comment is not None]
    header = getattr(getattr(node, "body", None), "header", None)
    if header is not None and header.comment is not None:
        comments.append(header.comment.value)
    trailing = getattr(node, "trailing_whitespace", None)
    if trailing is not None and trailing.comment is not None:
        comments.append(trailing.comment.value)
    for text in comments:
        match = INPUT_COMMENT.search(text)
        if match:
            shape = parse_shape(match.group(1), allow_unknown)
            if shape is not None:
                return shape
    return None


def declared_none_names(rank: int, count: int) -> list:
    """Names for the sizes a shape of ``rank`` (batch excluded) declares None: lower case, apart
    from the upper-case symbols invented for inputs nobody declared."""
    if count == 1:
        return ["t"] if rank <= 2 else ["s"]
    if count == 2:
        return ["h", "w"]
    if count == 3:
        return ["d", "h", "w"]
    return [f"s{i}" for i in range(1, count + 1)]


def statement_of(module, site):
    """The top-level ``name = <site>`` statement, whose comments may declare the input."""
    if site is None:
        return None
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign) and small.value is site:
                    return stmt
    return None
