"""The op contract shared by every framework's shape functions.

An op spec knows three things about one kind of layer or function: which constructor
parameters it takes, which facts make an application invalid (``check``), and the output
shape of a valid application (``infer``).  Parameters and shapes may hold ``UNKNOWN`` /
``None``; a check only fires when every fact it needs is known.
"""

from __future__ import annotations

from dataclasses import dataclass

from shapelint.ir import UNKNOWN, Problem
from shapelint.shapes.dims import Dim, Shape

REQUIRED = object()


def bind_params(signature, args, kwargs) -> dict:
    """Constructor/call arguments bound to a signature's names; UNKNOWN where unresolvable."""
    if signature is None:
        return {}
    if args is UNKNOWN or kwargs is UNKNOWN:
        return {name: UNKNOWN for name, _ in signature}
    params = {}
    for i, (name, default) in enumerate(signature):
        if i < len(args):
            params[name] = args[i]
        elif name in kwargs:
            params[name] = kwargs[name]
        else:
            params[name] = UNKNOWN if default is REQUIRED else default
    return params


def as_int(value) -> int | None:
    if isinstance(value, bool):
        return None
    return value if isinstance(value, int) else None


def as_ints(value, n: int) -> tuple | None:
    """An int or an n-sequence of ints widened to n entries (None entries where unknown)."""
    if isinstance(value, bool) or value is UNKNOWN or value is None:
        return None
    if isinstance(value, int):
        return (value,) * n
    if isinstance(value, (tuple, list)):
        if len(value) == 1 and n > 1:
            value = tuple(value) * n
        if len(value) != n:
            return None
        return tuple(as_int(v) for v in value)
    return None


def known_ints(values) -> bool:
    return values is not None and all(isinstance(v, int) for v in values)


@dataclass(frozen=True)
class ImpliedInput:
    """What an op that first consumes a model's input says about that input: how many spatial
    axes it has, its channel count (None: unknown), and whether channels come last."""

    spatial_rank: int
    channels: int | None = None
    channels_last: bool = False


@dataclass(frozen=True)
class Window:
    """One spatial axis of a sliding-window op, for collapse and remainder checks."""

    axis: int
    size: Dim
    kernel: int  # effective kernel: dilation * (kernel - 1) + 1
    stride: int
    padding: int  # total padding added to this axis (both sides)
    output: Dim


class OpSpec:
    name = "op"
    framework = "torch"
    signature: tuple = ()  # ((param, default or REQUIRED), ...) for constructor binding
    downsamples = False  # a window op whose purpose is to shrink space (SL202)
    # True when the only size-dependent failure is a collapse, so a larger input never fails
    # where a smaller one passed (the input-size solver then bisects instead of scanning).
    size_monotone = False
    merges = False  # an elementwise / concat merge: inputs of one shape always fit

    def checks_sizes(self, params: dict) -> bool:
        """False when no check of this application depends on the input's sizes (its rank at most):
        the input-size solver then has nothing to ask it."""
        return True

    def monotone(self, params: dict) -> bool:
        """``size_monotone`` for one application: a layer whose other checks can depend on the
        sizes for some parameters only (Keras groups, a pinned channel count) says so here."""
        return self.size_monotone

    def requirement(self, params: dict, inputs: list):
        """("equals" | "divisible", value, n): what an application needs of a size it cannot
        check while the size is symbolic (a Linear's in_features), or None."""
        return None

    def check_params(self, params: dict) -> list[Problem]:
        """Problems the framework raises when the layer is constructed."""
        return []

    def check(self, params: dict, inputs: list) -> list[Problem]:
        """Problems of one application to inputs of the given shapes."""
        return []

    def infer(self, params: dict, inputs: list) -> Shape:
        return None

    def windows(self, params: dict, inputs: list) -> list[Window]:
        return []

    def implied_input(self, params: dict, inputs: list) -> ImpliedInput | None:
        """The input this op implies when it is the first to consume a model's undeclared input
        (a 2-D convolution: a 4-D image), or None when it says nothing about the rank."""
        return None


def rank_problem(shape: Shape, accepted: tuple, what: str) -> list[Problem]:
    if shape is None or len(shape) in accepted:
        return []
    return [Problem("rank", {"got": len(shape), "accepted": accepted, "what": what})]
