"""The hooks a framework frontend gives the interpreter, with neutral defaults.

The interpreter (``frontends/interp.py``) asks its hooks object whenever a value is not plain
Python: calling a framework object, reading an attribute of a tensor, adding two tensors...
A frontend overrides the hooks it needs; every default answers UNKNOWN, so an unmodelled
construct silences checks instead of guessing.
"""

from __future__ import annotations

import re

import libcst as cst

from shapelint.ir import UNKNOWN, Tensor
from shapelint.shapes import dims


class FrameworkHooks:
    framework = "?"

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
