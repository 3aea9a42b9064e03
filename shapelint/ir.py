"""The framework-neutral model graph that frontends build and rules read.

Source locations are kept as CST node references (``site``) and turned into line/column
spans only when something is reported or shown: computing positions costs more than parsing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shapelint.shapes.dims import Shape


@dataclass(frozen=True)
class Span:
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass
class Problem:
    """A fact an op's shape function established about one application.

    ``kind`` names the fact ("channels", "collapse", ...); rules turn kinds into coded
    findings with messages.  ``fatal`` is True when the framework itself raises.
    """

    kind: str
    data: dict
    fatal: bool = True


@dataclass(eq=False)
class Node:
    """One application of an op (a layer call, a functional op, a layer construction)."""

    op: Any  # shapes.ops.OpSpec
    params: dict
    inputs: list  # list[Shape]
    sources: list  # list[Node | None]: the producer of each input
    call_site: Any  # CST node where it runs
    def_site: Any  # CST node where the layer is defined (== call_site for functional ops)
    output: Shape = None
    problems: list = field(default_factory=list)
    speculative: bool = False  # reached only through a branch whose condition is unknown
    hint: str = ""  # extra context for messages, e.g. the input sizes this layer would accept
    fed_from: Any = None  # the layer application this node re-checks at sizes a model was fed
    anchor: Any = None  # the call in the analysed file that led into another module's code, if any

    @property
    def name(self) -> str:
        return self.op.name


@dataclass(eq=False)
class Tensor:
    shape: Shape
    producer: Node | None = None
    framework: str = "torch"


@dataclass(eq=False)
class Model:
    name: str
    framework: str
    site: Any  # CST node of the class / variable / module that defines it
    input: Shape = None
    input_source: str = "symbolic"
    nodes: list = field(default_factory=list)
    solution: object = None  # shapes.solve.Solution, when the input-size solver ran
    data: Any = None  # (frontends.data.Origin, shape): the data the program feeds the model, when known


@dataclass(eq=False)
class Finding:
    """A coded diagnostic, before positions are resolved."""

    code: str
    site: Any  # CST node, or a Span for findings made without a tree (SL000)
    message: Any  # str, or callable(span_of) -> str
    node: Node | None = None
    problem: Problem | None = None  # the fact the finding phrases, when a shape function found one


class _Unknown:
    """The value of anything the analysis could not resolve; it silences dependent checks."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN = _Unknown()
