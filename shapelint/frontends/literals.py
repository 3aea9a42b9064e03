"""Constant folding of literal expressions and Python-level operations on folded values."""

from __future__ import annotations

import ast
import functools
import math
import operator

import libcst as cst

from shapelint.ir import UNKNOWN

_MAX_INT = 1 << 62  # larger results are not model sizes; stop folding rather than burn time

BINARY = {
    cst.Add: operator.add, cst.Subtract: operator.sub, cst.Multiply: operator.mul,
    cst.FloorDivide: operator.floordiv, cst.Divide: operator.truediv, cst.Modulo: operator.mod,
    cst.Power: operator.pow, cst.BitOr: operator.or_, cst.BitAnd: operator.and_,
    cst.LeftShift: operator.lshift, cst.RightShift: operator.rshift, cst.BitXor: operator.xor,
}

COMPARE = {
    cst.Equal: operator.eq, cst.NotEqual: operator.ne, cst.LessThan: operator.lt,
    cst.LessThanEqual: operator.le, cst.GreaterThan: operator.gt, cst.GreaterThanEqual: operator.ge,
}

PLAIN = (int, float, str, bool, type(None), tuple, list, dict)


def is_plain(value) -> bool:
    """A value Python operators may be applied to without surprises."""
    if isinstance(value, (tuple, list)):
        return all(is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(is_plain(k) and is_plain(v) for k, v in value.items())
    return isinstance(value, PLAIN)


@functools.lru_cache(maxsize=4096)
def _literal(text: str):
    """The value of a number or string literal's source text; the same few recur in every model
    and every re-analysis, and ``ast.literal_eval`` compiles each time."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return UNKNOWN


def string_value(node: cst.BaseExpression):
    if isinstance(node, cst.SimpleString):
        return _literal(node.value)
    if isinstance(node, cst.ConcatenatedString):
        left, right = string_value(node.left), string_value(node.right)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
    return UNKNOWN


def number_value(node: cst.BaseExpression):
    value = _literal(node.value)
    return UNKNOWN if isinstance(value, int) and abs(value) > _MAX_INT else value


def binary(op_type, left, right):
    func = BINARY.get(op_type)
    if func is None or not is_plain(left) or not is_plain(right):
        return UNKNOWN
    if func is operator.pow and isinstance(right, int) and (right > 64 or right < 0):
        return UNKNOWN
    if func in (operator.lshift,) and isinstance(right, int) and right > 62:
        return UNKNOWN
    if func is operator.mul and isinstance(right, int) and isinstance(left, (str, tuple, list)) and right > 10000:
        return UNKNOWN
    if func is operator.mul and isinstance(left, int) and isinstance(right, (str, tuple, list)) and left > 10000:
        return UNKNOWN
    try:
        result = func(left, right)
    except Exception:  # noqa: BLE001 - any Python error means "cannot fold"
        return UNKNOWN
    if isinstance(result, int) and abs(result) > _MAX_INT:
        return UNKNOWN
    return result


def compare(op_type, left, right):
    func = COMPARE.get(op_type)
    if func is not None:
        if not is_plain(left) or not is_plain(right):
            return UNKNOWN
        try:
            return func(left, right)
        except Exception:  # noqa: BLE001
            return UNKNOWN
    if op_type in (cst.In, cst.NotIn):
        if not is_plain(left) or not isinstance(right, (tuple, list, dict, str)) or not is_plain(right):
            return UNKNOWN
        try:
            found = left in right
        except Exception:  # noqa: BLE001
            return UNKNOWN
        return found if op_type is cst.In else not found
    return UNKNOWN


def linspace(start, stop, num=50, endpoint=True):
    """``numpy.linspace`` as a list of floats (stochastic-depth schedules: ``[float(r) for r in
    np.linspace(0, rate, sum(depths))]``)."""
    if isinstance(num, bool) or not isinstance(num, int) or not 0 <= num <= 10_000 or not isinstance(endpoint, bool):
        raise ValueError(num)
    if num <= 1:
        return [float(start)] * num
    step = (stop - start) / ((num - 1) if endpoint else num)
    return [start + i * step for i in range(num - 1)] + [float(stop) if endpoint else start + (num - 1) * step]


MATH = {
    "math.ceil": math.ceil, "math.floor": math.floor, "math.sqrt": math.sqrt, "math.log2": math.log2,
    "math.log": math.log, "math.gcd": math.gcd, "math.prod": math.prod, "numpy.linspace": linspace,
}
