"""How much interpretation one file may cost, and where it ran out.

The interpreter charges one step per statement and expression it evaluates (``Interpreter.tick``):
at most ``STEP_BUDGET`` (``frontends/interp.py``) for one model, at most ``FILE_STEPS`` for all the
models of one file together (exploring both sides of every unknown ``if``, unrolled loop passes
and the values they build all cost steps).  When either runs out, the analysis of that model
stops; the findings made so far are kept, and the first place it ran out is reported as SL001.
A step costs about 2 µs, so a file's analysis is bounded by a few seconds.

``lint_source`` opens a budget per file (``for_file``); an interpreter made outside one (a test,
a tool) gets an unlimited budget of its own.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

FILE_STEPS = 1_000_000

_local = threading.local()


class Budget:
    __slots__ = ("left", "limit", "exhausted_in", "label", "per_model")

    def __init__(self, steps: int):
        self.left = steps
        self.limit = steps
        self.exhausted_in = None  # the node of the function (or module) being analysed when it ran out
        self.label = None  # its name for messages: "Net.__init__", "conv_net"; None for module code
        self.per_model = False  # whether it was one model's budget, not the file's

    def exhausted(self, interp, per_model: bool) -> None:
        """Called by the interpreter before it gives up; remembers the first place only."""
        if self.exhausted_in is None:
            func = interp.call_stack[0].func if interp.call_stack else None
            self.exhausted_in = func.node if func is not None else interp.module
            if func is not None:
                owner = getattr(getattr(func, "owner", None), "name", None)
                self.label = f"{owner}.{func.name}" if owner else func.name
            self.per_model = per_model


@contextmanager
def for_file(steps: int | None = None):
    previous = getattr(_local, "budget", None)
    budget = _local.budget = Budget(FILE_STEPS if steps is None else steps)
    try:
        yield budget
    finally:
        _local.budget = previous


def current() -> Budget:
    budget = getattr(_local, "budget", None)
    return budget if budget is not None else Budget(float("inf"))
