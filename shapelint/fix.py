"""Repairs of findings, as data: a ``Fix`` is text edits plus how certain its intent is.

A fix is made from what the finding's problem states (what the layer expects, what arrives)
and from the CST node where the layer is constructed (``Node.def_site``): it rewrites only the
argument that must change, so the rest of the text -- formatting, comments -- stays as written.
``safe`` fixes have one possible meaning (``padding='SAME'`` in torch is ``'same'``); ``unsafe``
ones choose between meanings (the layer's ``in_features`` or the tensor it receives).

A value the code computes from other names is rewritten where it is written only when that is
unambiguous (an integer literal, a product of literals, a module name assigned once and read
once); otherwise no fix is offered.  ``shapelint.fixer`` applies fixes and proves each one by
linting the fixed text again.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable

import libcst as cst

SAFE = "safe"
UNSAFE = "unsafe"

TORCH_PADDING = ("same", "valid")
TF_PADDING = ("SAME", "VALID")


@dataclass(frozen=True)
class Edit:
    """Replace the text from (line, column) up to, not including, (end_line, end_column) by
    ``content``; lines and columns count from 1, columns in code points.  An insertion has
    equal start and end."""

    line: int
    column: int
    end_line: int
    end_column: int
    content: str

    def to_json(self) -> dict:
        return {"line": self.line, "column": self.column, "end_line": self.end_line,
                "end_column": self.end_column, "content": self.content}


@dataclass(frozen=True)
class Fix:
    applicability: str  # SAFE | UNSAFE
    message: str
    edits: tuple  # tuple[Edit, ...], not overlapping

    def to_json(self) -> dict:
        return {"applicability": self.applicability, "message": self.message,
                "edits": [edit.to_json() for edit in self.edits]}

    @classmethod
    def from_json(cls, data: dict) -> "Fix":
        return cls(data["applicability"], data["message"], tuple(Edit(**edit) for edit in data["edits"]))

    @staticmethod
    def valid_json(data) -> bool:
        """Whether ``data`` is exactly what ``to_json`` (or ``dataclasses.asdict``) writes."""
        if not isinstance(data, dict) or set(data) != {"applicability", "message", "edits"} \
                or data["applicability"] not in (SAFE, UNSAFE) or type(data["message"]) is not str \
                or not isinstance(data["edits"], list):
            return False
        fields = {"line": int, "column": int, "end_line": int, "end_column": int, "content": str}
        return all(isinstance(edit, dict) and set(edit) == set(fields)
                   and all(type(edit[name]) is kind for name, kind in fields.items()) for edit in data["edits"])


LINE_BREAK = re.compile(r"\r\n|\r|\n")


def line_starts(text: str) -> list[int]:
    """Offsets where each line starts, with LibCST's line breaks (not str.splitlines')."""
    return [0] + [match.end() for match in LINE_BREAK.finditer(text)]


def apply_edits(text: str, edits) -> str | None:
    """The text with the edits made; None when an edit falls outside the text or two overlap."""
    starts = line_starts(text)

    def offset(line: int, column: int) -> int | None:
        if not 1 <= line <= len(starts):
            return None
        end = starts[line] if line < len(starts) else len(text)
        at = starts[line - 1] + column - 1
        return at if starts[line - 1] <= at <= end else None

    spans = []
    for edit in edits:
        start, end = offset(edit.line, edit.column), offset(edit.end_line, edit.end_column)
        if start is None or end is None or end < start:
            return None
        spans.append((start, end, edit.content))
    spans.sort(key=lambda s: (s[0], s[1]))
    for (_, end, _), (start, _, _) in zip(spans, spans[1:]):
        if start < end:
            return None
    for start, end, content in reversed(spans):
        text = text[:start] + content + text[end:]
    return text


class NoFix(Exception):
    """The facts a fix needs are not all in the text."""


class FixContext:
    """The parsed file a finding came from: spans of its nodes and the text they came from."""

    def __init__(self, module: cst.Module, text: str, span_of):
        self.module = module
        self.text = text
        self.span_of = span_of
        self._starts = None
        self._names = None

    def source(self, node: cst.CSTNode) -> str:
        """The text of a node as written in the file; NoFix when the positions do not match it."""
        span = self.span_of(node)
        if self._starts is None:
            self._starts = line_starts(self.text)
        starts = self._starts
        if not (1 <= span.line <= len(starts) and 1 <= span.end_line <= len(starts)):
            raise NoFix
        written = self.text[starts[span.line - 1] + span.column - 1:starts[span.end_line - 1] + span.end_column - 1]
        if written != self.module.code_for_node(node):
            raise NoFix
        return written

    def replace(self, node: cst.CSTNode, content: str) -> Edit:
        self.source(node)
        span = self.span_of(node)
        return Edit(span.line, span.column, span.end_line, span.end_column, content)

    def insert_before(self, node: cst.CSTNode, content: str) -> Edit:
        self.source(node)
        span = self.span_of(node)
        return Edit(span.line, span.column, span.line, span.column, content)

    def imports_name(self, name: str) -> bool:
        """Whether an import statement of the file binds ``name``."""
        found = []

        class Imports(cst.CSTVisitor):
            def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
                bound = node.asname.name if node.asname is not None else node.name
                if isinstance(bound, cst.Name) and bound.value == name:
                    found.append(node)

        self.module.visit(Imports())
        return bool(found)

    def name_assigned_once(self, name: str):
        """The value of the one ``name = value`` statement when the file binds ``name`` there
        only and reads it once (counted with ``ast`` over the whole text, which the parse may
        have pruned); else None."""
        if self._names is None:
            self._names = _name_counts(self.text)
        if self._names.get(name) != 2:  # the assignment and the one read
            return None
        values = []

        class Assignments(cst.CSTVisitor):
            def visit_Assign(self, node: cst.Assign) -> None:
                if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name) \
                        and node.targets[0].target.value == name:
                    values.append(node.value)

        self.module.visit(Assignments())
        return values[0] if len(values) == 1 else None


def _name_counts(text: str) -> dict:
    """How many times each name is bound or read anywhere in the text."""
    import ast

    # A name read by string (``globals()["n"]``, ``eval``) is beyond this count: such files keep
    # their names as they are.
    if any(call in text for call in ("globals(", "locals(", "eval(", "exec(", "vars(")):
        return {}
    counts: dict = {}
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return counts
    for node in ast.walk(tree):
        names = ()
        if isinstance(node, ast.Name):
            names = (node.id,)
        elif isinstance(node, ast.arg):
            names = (node.arg,)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = (node.name,)
        elif isinstance(node, ast.alias):
            names = ((node.asname or node.name).split(".")[0],)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names = tuple(node.names)
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    return counts


# ----- finding the argument that holds a parameter ----------------------------------------------


def argument(call, name: str, signature=(), position: int | None = None) -> cst.Arg | None:
    """The argument of ``call`` bound to the parameter ``name`` (by keyword, or by position in
    ``signature`` or at ``position``); None when the call does not pass it or passes ``*args``."""
    if not isinstance(call, cst.Call):
        return None
    if any(arg.star for arg in call.args):
        return None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    if position is None:
        names = [param for param, _ in signature]
        position = names.index(name) if name in names else None
    positional = [arg for arg in call.args if arg.keyword is None]
    if position is not None and position < len(positional):
        return positional[position]
    return None


def _int_literal(node) -> int | None:
    if isinstance(node, cst.Integer) and not node.lpar:
        try:
            return int(node.value.replace("_", ""), 0)
        except ValueError:
            return None
    return None


def _factors(node) -> list | None:
    """The integer literals of a product ``a * b * c``, in order; None for anything else."""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Multiply) and not node.lpar:
        left, right = _factors(node.left), _factors(node.right)
        return left + right if left is not None and right is not None else None
    value = _int_literal(node)
    return None if value is None else [(node, value)]


def rewrite_int(expr, new: int, ctx: FixContext, depth: int = 0) -> list[Edit]:
    """Edits that make the integer expression ``expr`` evaluate to ``new``: a literal is
    replaced; in a product like ``16 * 5 * 5`` equal trailing factors are rescaled when that
    gives ``new`` exactly (``16 * 4 * 4``), or else the one factor whose change does, else the
    product (or any arithmetic of literals) becomes the number; a name assigned
    once (``n = 400``) and read only here is rewritten at its assignment.  NoFix otherwise."""
    if new <= 0:
        raise NoFix
    if _int_literal(expr) is not None:
        return [ctx.replace(expr, str(new))]
    factors = _factors(expr)
    if factors is not None and len(factors) >= 2:
        # ``28 * 28`` -> ``32 * 32``; ``16 * 5 * 5`` -> ``16 * 4 * 4``: equal factors are a size
        # that repeats (height and width), the rest stays.
        for start in (0, 1):
            head = math.prod(v for _, v in factors[:start])
            tail = factors[start:]
            side = _integer_root(new // head, len(tail)) if new % head == 0 else None
            if len(tail) >= 2 and len({v for _, v in tail}) == 1 and side is not None:
                return [ctx.replace(node, str(side)) for node, _ in tail]
        # ``5 * 5 * 32`` -> ``5 * 5 * 16``: the one factor whose change gives ``new`` exactly
        total = math.prod(v for _, v in factors)
        fits = {v: node for node, v in factors if new % (total // v) == 0} if total else {}
        if len(fits) == 1 and sum(1 for _, v in factors if v in fits) == 1:
            [(value, node)] = fits.items()
            return [ctx.replace(node, str(new // (total // value)))]
        return [ctx.replace(expr, str(new))]
    if _literal_arithmetic(expr) is not None:
        return [ctx.replace(expr, str(new))]  # ``(8 * 14 * 14) + 1``: the number it must be
    if isinstance(expr, cst.Name) and depth == 0:
        value = ctx.name_assigned_once(expr.value)
        if value is not None:
            return rewrite_int(value, new, ctx, depth + 1)
    raise NoFix


ARITHMETIC = {cst.Add: lambda a, b: a + b, cst.Subtract: lambda a, b: a - b, cst.Multiply: lambda a, b: a * b,
              cst.FloorDivide: lambda a, b: a // b if b else None}


def _literal_arithmetic(node, depth: int = 0) -> int | None:
    """The value of an expression made of integer literals and ``+ - * //`` only; else None."""
    if depth > 32:
        return None
    if isinstance(node, cst.Integer):
        try:
            return int(node.value.replace("_", ""), 0)
        except ValueError:
            return None
    if isinstance(node, cst.BinaryOperation) and type(node.operator) in ARITHMETIC:
        left, right = _literal_arithmetic(node.left, depth + 1), _literal_arithmetic(node.right, depth + 1)
        if left is None or right is None:
            return None
        return ARITHMETIC[type(node.operator)](left, right)
    return None


def _integer_root(value: int, n: int) -> int | None:
    if value <= 0:
        return None
    root = round(value ** (1 / n))
    for guess in (root - 1, root, root + 1):
        if guess > 0 and guess ** n == value:
            return guess
    return None


def _string_literal(node) -> str | None:
    if isinstance(node, cst.SimpleString):
        try:
            value = node.evaluated_value
        except Exception:  # noqa: BLE001 - an odd literal is simply not rewritten
            return None
        return value if isinstance(value, str) else None
    return None


def _requote(node: cst.SimpleString, value: str) -> str:
    """``value`` in the literal's own prefix and quotes."""
    quote = node.quote
    return f"{node.prefix}{quote}{value}{quote}"


# ----- fixes per problem kind ------------------------------------------------------------------

# The constructor argument a torch layer's channel / feature check compares, per op class name.
CHANNEL_ARGUMENT = {"Conv": "in_channels", "BatchNorm": "num_features", "GroupNorm": "num_channels",
                    "InstanceNorm": "num_features"}
FEATURE_ARGUMENT = ("in_features", "input_size")


def _torch_op(node) -> bool:
    return type(node.op).__module__.endswith("torch_ops")


def fix_padding_value(problem, node, ctx: FixContext) -> Fix | None:
    """``padding='SAME'`` in torch / ``'same'`` in tf.nn: the spelling the framework accepts."""
    data = problem.data
    value = data.get("value")
    if not isinstance(value, str):
        return None
    framework = data.get("framework")
    if framework == "PyTorch" and value.lower() in TORCH_PADDING:
        wanted = value.lower()
        arg = argument(node.def_site, "padding", node.op.signature)
    elif framework == "tf.nn" and value.upper() in TF_PADDING:
        wanted = value.upper()
        arg = argument(node.def_site, "padding", position=3)
    else:
        return None
    if arg is None or _string_literal(arg.value) != value:
        return None
    edit = ctx.replace(arg.value, _requote(arg.value, wanted))
    return Fix(SAFE, f"Write padding={wanted!r}", (edit,))


def fix_same_stride(problem, node, ctx: FixContext) -> Fix | None:
    """torch ``padding='same'`` at stride > 1: the explicit padding ``dilation * (kernel - 1) // 2``,
    which gives ``ceil(size / stride)`` like TensorFlow's SAME for odd kernels."""
    params, n = node.params, getattr(node.op, "n", None)
    if not n:
        return None
    from shapelint.shapes.ops import as_ints

    kernel, dilation = as_ints(params.get("kernel_size"), n), as_ints(params.get("dilation"), n)
    if kernel is None or dilation is None or None in kernel or None in dilation:
        return None
    pads = [d * (k - 1) // 2 for k, d in zip(kernel, dilation)]
    arg = argument(node.def_site, "padding", node.op.signature)
    if arg is None or _string_literal(arg.value) != "same":
        return None
    text = str(pads[0]) if len(set(pads)) == 1 else "(" + ", ".join(map(str, pads)) + ")"
    return Fix(UNSAFE, f"Pad explicitly: padding={text} (PyTorch has no 'same' for strided convolutions)",
               (ctx.replace(arg.value, text),))


def fix_keras1_positional(problem, node, ctx: FixContext) -> Fix | None:
    """``Conv2D(32, 3, 3)`` written for Keras 1: the two sizes as one kernel_size tuple."""
    call = node.def_site
    if not isinstance(call, cst.Call) or any(arg.star for arg in call.args):
        return None
    positional = [arg for arg in call.args if arg.keyword is None]
    if len(positional) != 3 or positional != list(call.args[:3]):
        return None  # a fourth positional argument is not Keras 1 code
    kernel, third = positional[1].value, positional[2].value
    if _int_literal(kernel) is None or _int_literal(third) is None:
        return None
    first = ctx.span_of(kernel)
    last = ctx.span_of(third)
    written = f"({ctx.source(kernel)}, {ctx.source(third)})"
    edit = Edit(first.line, first.column, last.end_line, last.end_column, written)
    return Fix(SAFE, f"Write the Keras 1 kernel as kernel_size={written}", (edit,))


def fix_channels(problem, node, ctx: FixContext) -> Fix | None:
    """A torch layer's channel count, or a tf.nn filter's input depth, set to the channels that
    arrive."""
    data = problem.data
    got = data.get("got")
    if not isinstance(got, int) or data.get("what") == "undefined":
        return None
    if type(node.op).__module__.endswith("tfnn_ops"):
        axis = FILTER_IN_AXIS.get(type(node.op).__name__)
        return None if axis is None else _fix_weight_shape(node, axis, data.get("expected"), got, ctx)
    if not _torch_op(node):
        return None
    name = next((arg for prefix, arg in CHANNEL_ARGUMENT.items() if type(node.op).__name__.startswith(prefix)), None)
    if name is None or getattr(node.op, "lazy", False):
        return None
    arg = argument(node.def_site, name, node.op.signature)
    if arg is None:
        return None
    edits = rewrite_int(arg.value, got, ctx)
    return Fix(UNSAFE, f"Set {name} to {got}, the channels {node.name} receives", tuple(edits))


def fix_features(problem, node, ctx: FixContext) -> Fix | None:
    """torch ``Linear`` / RNN input size: flatten a tensor whose per-example size is what the
    layer expects (a missing ``Flatten``), else set the size to the features that arrive."""
    data = problem.data
    name, expected, got = data.get("what"), data.get("expected"), data.get("got")
    if name == "reshape":
        return _fix_flatten_size(problem, node, ctx)
    if name == "matmul" and type(node.op).__name__ == "MatMul" and isinstance(got, int):
        flags = [node.params.get(k, False) for k in ("transpose_a", "transpose_b", "adjoint_a", "adjoint_b")]
        weight = node.inputs[1] if len(node.inputs) > 1 else None
        if any(flag is not False for flag in flags) or weight is None or len(weight) != 2:
            return None
        return _fix_weight_shape(node, 0, expected, got, ctx)
    if (not _torch_op(node) or name not in FEATURE_ARGUMENT or not isinstance(got, int)
            or not isinstance(expected, int) or not node.inputs or node.inputs[0] is None):
        return None
    x = node.inputs[0]
    per_example = list(x[1:])
    if name == "in_features" and len(x) >= 3 and all(isinstance(d, int) for d in per_example) \
            and math.prod(per_example) == expected:
        return _insert_flatten(node, ctx)
    if len(x) >= 4:
        return None  # an image reaching a Linear: which size was meant is not in the text
    arg = argument(node.def_site, name, node.op.signature)
    if arg is None:
        return None
    edits = rewrite_int(arg.value, got, ctx)
    return Fix(UNSAFE, f"Set {name} to {got}, the features {node.name} receives", tuple(edits))


# tf.nn ops: the axis of the filter (their second input) that must equal the input's depth.
FILTER_IN_AXIS = {"Conv2D": 2, "SeparableConv2D": 2, "Conv2DTranspose": 3}


def _fix_weight_shape(node, axis: int, expected, got: int, ctx: FixContext) -> Fix | None:
    """The shape of the weight tensor (``tf.Variable(tf.random_normal([5, 5, 24, 64]))``) where it
    is written as literals, with ``axis`` set to ``got``: only when exactly one list or tuple in
    the call that makes the weight spells its shape."""
    weight = node.inputs[1] if len(node.inputs) > 1 else None
    source = node.sources[1] if len(node.sources) > 1 else None
    if weight is None or source is None or not isinstance(source.def_site, cst.Call) \
            or not all(isinstance(d, int) for d in weight) or weight[axis] != expected:
        return None
    shapes = []

    class Shapes(cst.CSTVisitor):
        def visit_List(self, node: cst.List) -> None:
            self.check(node)

        def visit_Tuple(self, node: cst.Tuple) -> None:
            self.check(node)

        def check(self, literal) -> None:
            values = [_int_value(element.value) for element in literal.elements]
            if values == list(weight):
                shapes.append(literal)

    source.def_site.visit(Shapes())
    if len(shapes) != 1:
        return None
    element = shapes[0].elements[axis].value
    edits = rewrite_int(element, got, ctx)
    what = "input depth" if axis else "rows"
    return Fix(UNSAFE, f"Set the weight's {what} to {got}, what {node.name} receives", tuple(edits))


def _int_value(node) -> int | None:
    factors = _factors(node)
    return None if factors is None else math.prod(v for _, v in factors)


def _fix_flatten_size(problem, node, ctx: FixContext) -> Fix | None:
    """``x.view(-1, 320)`` of a tensor holding 500 values per example: ``x.view(-1, 500)``."""
    target, x = problem.data.get("expected"), problem.data.get("input")
    call = node.def_site
    if (not _torch_op(node) or not isinstance(target, list) or len(target) != 2 or not isinstance(x, list)
            or len(x) < 2 or not all(isinstance(d, int) for d in x) or not isinstance(call, cst.Call)):
        return None
    batch, size = target
    if not (batch == -1 or batch == x[0]) or not isinstance(size, int) or size == -1:
        return None
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    if len(positional) != 2 or len(call.args) != 2:
        return None  # ``view((-1, 320))``, ``reshape(x, (-1, 320))``: not rewritten
    per_example = math.prod(x[1:])
    edits = rewrite_int(positional[1].value, per_example, ctx)
    return Fix(UNSAFE, f"Flatten to the {per_example} values each example holds", tuple(edits))


def _insert_flatten(node, ctx: FixContext) -> Fix | None:
    """A ``Flatten`` before the layer ``node`` runs: a new entry of the ``nn.Sequential`` or
    Keras ``Sequential([...])`` that lists it, a ``model.add(Flatten())`` before its
    ``model.add``, or the tensor a call passes it flattened (``x.flatten(1)`` in torch,
    ``Flatten()(x)`` in Keras)."""
    call, site = node.def_site, node.call_site
    torch = _torch_op(node)
    if site is not call:
        if not isinstance(site, cst.Call) or len(site.args) != 1 or site.args[0].keyword or site.args[0].star:
            return None
        value = site.args[0].value
        text = ctx.source(value)
        if torch:
            if not isinstance(value, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)):
                text = f"({text})"
            return Fix(UNSAFE, "Flatten the tensor before the layer: .flatten(1)",
                       (ctx.replace(value, text + ".flatten(1)"),))
        flatten = _flatten_call(call, ctx)
        if flatten is None or site.func is not call:
            return None
        return Fix(UNSAFE, f"Flatten the tensor before the layer: {flatten}()(...)",
                   (ctx.replace(value, f"{flatten}()({text})"),))
    flatten = _flatten_call(call, ctx)
    parents = _ancestors(call, ctx.module)
    if flatten is None or len(parents) < 2:
        return None
    parent, holder = parents[0], parents[1]
    if isinstance(parent, cst.Arg) and isinstance(holder, cst.Call) and not torch \
            and isinstance(holder.func, cst.Attribute) and holder.func.attr.value == "add" and len(holder.args) == 1:
        # model.add(Dense(10)): a model.add(Flatten()) statement before it
        span = ctx.span_of(holder)
        line = line_starts(ctx.text)[span.line - 1]
        indent = ctx.text[line:line + span.column - 1]
        if indent.strip():
            return None
        added = f"{ctx.source(holder.func)}({flatten}()){ctx.module.default_newline}{indent}"
        return Fix(UNSAFE, "Insert a Flatten() before the layer", (ctx.insert_before(holder, added),))
    if isinstance(parent, cst.Arg) and parent.keyword is None and not parent.star and torch \
            or isinstance(parent, cst.Element) and not torch and isinstance(holder, (cst.List, cst.Tuple)):
        return Fix(UNSAFE, "Insert a Flatten() before the layer",
                   (ctx.insert_before(parent.value, f"{flatten}()" + _separator(parent, ctx)),))
    return None


def _flatten_call(call, ctx: FixContext) -> str | None:
    """How the file names the framework's Flatten next to the layer's own class: ``nn.Flatten``
    beside ``nn.Linear``, ``layers.Flatten`` beside ``layers.Dense``, ``Flatten`` when the file
    imports it by that name."""
    func = call.func if isinstance(call, cst.Call) else None
    if isinstance(func, cst.Attribute):
        return ctx.source(func.value) + ".Flatten"
    if isinstance(func, cst.Name) and ctx.imports_name("Flatten"):
        return "Flatten"
    return None


def _ancestors(target, module: cst.Module) -> list:
    """The nodes that hold ``target``, nearest first (empty when it is not in ``module``)."""
    found: list = []

    class Finder(cst.CSTVisitor):
        def __init__(self):
            self.stack = []

        def on_visit(self, node) -> bool:
            if found:
                return False
            if node is target:
                found.extend(reversed(self.stack))
                return False
            self.stack.append(node)
            return True

        def on_leave(self, original_node) -> None:
            if self.stack and self.stack[-1] is original_node:
                self.stack.pop()

    module.visit(Finder())
    return found


def _separator(entry, ctx: FixContext) -> str:
    """What goes after an inserted entry: a new line with the entry's indentation when the entry
    starts its line, else a comma and a space."""
    span = ctx.span_of(entry.value)
    line = line_starts(ctx.text)[span.line - 1]
    before = ctx.text[line:line + span.column - 1]
    if before and not before.strip():
        return "," + ctx.module.default_newline + before
    return ", "


def fix_loss_target(problem, node, ctx: FixContext) -> Fix | None:
    """Keras targets of rank 2 against a model output of higher rank because a ``Dense`` runs on a
    feature map (no ``Flatten``): a ``Flatten()`` before the first such ``Dense``."""
    data = problem.data
    target, output = data.get("target"), data.get("output")
    if data.get("why") != "rank" or not target or not output or len(target) != 2 or len(output) <= 2:
        return None
    source = node.sources[1] if len(node.sources) > 1 else None
    first, seen = None, 0
    while source is not None and seen < 256:
        x = source.inputs[0] if source.inputs else None
        if source.name == "Dense" and x is not None and len(x) > 2:
            first = source
        elif source.name in ("Flatten", "Reshape", "GlobalAveragePooling2D", "GlobalMaxPooling2D"):
            break
        source, seen = (source.sources[0] if source.sources else None), seen + 1
    if first is None:
        return None
    return _insert_flatten(first, ctx)


def fix_rank(problem, node, ctx: FixContext) -> Fix | None:
    """A torch BatchNorm of the wrong dimension for the tensor it gets (``BatchNorm1d`` after a
    ``Conv2d``): the class whose rank fits, ``nn.BatchNorm2d``."""
    got = problem.data.get("got")
    call = node.def_site
    if (not _torch_op(node) or type(node.op).__name__ != "BatchNorm" or not isinstance(got, int)
            or not 2 <= got <= 5 or not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute)):
        return None
    wanted = f"BatchNorm{max(got - 2, 1)}d"
    if call.func.attr.value != node.op.name or wanted == node.op.name:
        return None
    return Fix(UNSAFE, f"Use {wanted} for the {got}-D tensor it receives", (ctx.replace(call.func.attr, wanted),))


FIXERS: dict[str, Callable] = {
    "padding_value": fix_padding_value,
    "same_stride": fix_same_stride,
    "keras1_positional": fix_keras1_positional,
    "channels": fix_channels,
    "features": fix_features,
    "rank": fix_rank,
    "loss_target": fix_loss_target,
}


def fix_for(problem, node, ctx: FixContext) -> Fix | None:
    """The fix of one finding's problem, or None when there is none the text allows."""
    if problem is None or node is None:
        return None
    fixer = FIXERS.get(problem.kind)
    if fixer is None:
        return None
    try:
        return fixer(problem, node, ctx)
    except NoFix:
        return None
    except Exception:  # noqa: BLE001 - a fix that cannot be made never costs the finding
        return None


__all__ = ["SAFE", "UNSAFE", "Edit", "Fix", "FixContext", "apply_edits", "fix_for", "argument", "rewrite_int"]
