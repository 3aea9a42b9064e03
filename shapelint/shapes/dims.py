"""Dimensions: a known ``int``, a symbolic ``Expr``, or ``None`` for unknown.

Every helper here propagates ``None`` (unknown is contagious) and folds ints, so shape
functions can be written once with plain arithmetic helpers and work for all three kinds.

A symbol stands for a size the analysis does not know.  Most are invented (an input nobody
declared); a symbol made by ``declared_none`` stands for a size the code itself declares as
``None`` (``keras.Input((None, None, 3))``).  Both take a concrete value when the model runs,
but the framework builds the model while the declared ones are still None: Keras sees None
wherever such a symbol reaches, and rejects layers that need a defined size there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

Dim = Union[int, "Expr", None]
Shape = Union[tuple, None]  # tuple of Dim, or None when even the rank is unknown


@dataclass(frozen=True)
class Expr:
    """A symbolic size: a symbol, or ``op`` applied to two operands (Expr or int)."""

    op: str  # "sym", "+", "-", "*", "//", "ceil"
    left: object = None
    right: object = None
    name: str = ""
    declared_none: bool = False  # a symbol for a size the code declares as None

    def evaluate(self, env: dict) -> int:
        if self.op == "sym":
            return env[self.name]
        a = self.left.evaluate(env) if isinstance(self.left, Expr) else self.left
        b = self.right.evaluate(env) if isinstance(self.right, Expr) else self.right
        if self.op == "+":
            return a + b
        if self.op == "-":
            return a - b
        if self.op == "*":
            return a * b
        if self.op == "//":
            return a // b
        return -(-a // b)  # ceil

    def symbols(self) -> set:
        if self.op == "sym":
            return {self.name}
        found = set()
        for side in (self.left, self.right):
            if isinstance(side, Expr):
                found |= side.symbols()
        return found

    def declared_symbols(self) -> set:
        """Names of the symbols in this expression that stand for sizes declared None."""
        if self.op == "sym":
            return {self.name} if self.declared_none else set()
        found = set()
        for side in (self.left, self.right):
            if isinstance(side, Expr):
                found |= side.declared_symbols()
        return found

    def __str__(self) -> str:
        return _render(self, 0)


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "//": 2}


def _render(value, parent: int) -> str:
    if not isinstance(value, Expr):
        return str(value)
    if value.op == "sym":
        return value.name
    if value.op == "ceil":
        return f"ceil({_render(value.left, 3)} / {_render(value.right, 3)})"
    mine = _PRECEDENCE[value.op]
    right_parent = mine + 1 if value.op in ("-", "//") else mine
    text = f"{_render(value.left, mine)} {value.op} {_render(value.right, right_parent)}"
    return f"({text})" if mine < parent else text


def symbol(name: str) -> Expr:
    return Expr("sym", name=name)


def declared_none(name: str) -> Expr:
    """The symbol for a size declared None (Keras builds the model without it)."""
    return Expr("sym", name=name, declared_none=True)


def from_declared_none(d: Dim) -> bool:
    """True when ``d`` depends on a size declared None: the framework sees None there."""
    return isinstance(d, Expr) and bool(d.declared_symbols())


def substitute(d: Dim, values: dict) -> Dim:
    """``d`` with symbols replaced by ``values`` (name -> Dim); symbols not named stay."""
    if not isinstance(d, Expr):
        return d
    if d.op == "sym":
        return values.get(d.name, d)
    return _fold(d.op, substitute(d.left, values), substitute(d.right, values))


def is_known(d: Dim) -> bool:
    return isinstance(d, int)


def _fold(op: str, a: Dim, b: Dim) -> Dim:
    if a is None or b is None:
        return None
    if isinstance(a, int) and isinstance(b, int):
        if op in ("//", "ceil") and b == 0:
            return None
        return Expr(op, a, b).evaluate({})
    # Light simplification keeps printed expressions readable: (H + 2) - 1 -> H + 1.
    if op in ("+", "-") and isinstance(b, int):
        if b == 0:
            return a
        if isinstance(a, Expr) and a.op in ("+", "-") and isinstance(a.right, int):
            total = (a.right if a.op == "+" else -a.right) + (b if op == "+" else -b)
            if total == 0:
                return a.left
            return Expr("+" if total > 0 else "-", a.left, abs(total))
        if b < 0:
            return Expr("-" if op == "+" else "+", a, -b)
    if op in ("*", "//", "ceil") and b == 1:
        return a
    if op == "*" and a == 1:
        return b
    if op == "*" and isinstance(a, int) and isinstance(b, Expr):
        a, b = b, a
    return Expr(op, a, b)


def add(a: Dim, b: Dim) -> Dim:
    return _fold("+", a, b)


def sub(a: Dim, b: Dim) -> Dim:
    return _fold("-", a, b)


def mul(a: Dim, b: Dim) -> Dim:
    return _fold("*", a, b)


def floordiv(a: Dim, b: Dim) -> Dim:
    return _fold("//", a, b)


def ceildiv(a: Dim, b: Dim) -> Dim:
    return _fold("ceil", a, b)


def product(dims) -> Dim:
    total: Dim = 1
    for d in dims:
        total = mul(total, d)
    return total


def same(a: Dim, b: Dim) -> bool | None:
    """True/False when provably equal/different, None when it cannot be decided."""
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    if a is None or b is None:
        return None
    if a == b:
        return True
    return None


def shape_to_json(shape: Shape):
    if shape is None:
        return None
    return [d if isinstance(d, int) or d is None else str(d) for d in shape]


def json_shape(shape: Shape):
    """A shape as ``shapes --format json`` writes it: ints, null for the unknown batch (the
    symbolic batch N too, like Keras' None batch), strings for symbolic expressions."""
    if shape is None:
        return None
    values = shape_to_json(shape)
    if shape and isinstance(shape[0], Expr) and shape[0].op == "sym" and shape[0].name == "N":
        values[0] = None
    return values


def format_dim(d: Dim) -> str:
    return "?" if d is None else str(d)


def format_shape(shape: Shape) -> str:
    if shape is None:
        return "?"
    return "[" + ", ".join(format_dim(d) for d in shape) + "]"
