"""What a run checked: models, layers with a known output shape, and why the others are not.

A layer is one definition site (a ``Conv2d(...)`` call, a functional op) applied by some model;
its shape is known when one of its applications has an output whose every dimension is
determined (an int or a symbolic expression; the batch may be unknown).  For a layer that has
none, the reason named is the first construct upstream that stopped the analysis: the layer
whose output was already unknown, a tensor no layer produced, or a parameter of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shapelint.ir import UNKNOWN

MAX_WALK = 256


@dataclass
class Coverage:
    models: int = 0
    layers: int = 0
    known: int = 0
    unchecked: list = field(default_factory=list)  # (def site, layer name, reason with a site or None)
    layer_sites: list = field(default_factory=list)  # (def site, layer name, known): every layer, local or not

    def add(self, other: "Coverage") -> None:
        self.models += other.models
        self.layers += other.layers
        self.known += other.known
        self.unchecked.extend(other.unchecked)

    def summary(self) -> str:
        return f"{self.models} model{'s' if self.models != 1 else ''}, {self.known} of {self.layers} " \
               f"layer{'s' if self.layers != 1 else ''} with known shapes"


def known(shape) -> bool:
    return shape is not None and all(d is not None for d in shape[1:])


def measure(models: list, local=lambda node: True) -> Coverage:
    """Coverage of ``models`` (of one file's analysis), counting the layers defined in the file
    itself (``local``); the reasons keep CST sites."""
    found = Coverage(models=sum(1 for m in models if m.name != "<module>" or m.nodes))
    first: dict = {}  # id(def site) -> an application, the first seen
    done: set = set()
    for model in models:
        for node in model.nodes:
            if not node.inputs or node.speculative:
                continue
            key = id(node.def_site)
            if key not in first and not local(node):
                continue
            first.setdefault(key, node)
            if known(node.output):
                done.add(key)
    found.layers = len(first)
    found.known = len(done & set(first))
    for key, node in first.items():
        if key not in done:
            found.unchecked.append((node.def_site, node.name, reason(node)))
    every: dict = {}
    for model in models:
        for node in model.nodes:
            if node.inputs and not node.speculative:
                key = id(node.def_site)
                entry = every.setdefault(key, [node.def_site, node.name, False, node])
                entry[2] = entry[2] or known(node.output)
    found.layer_sites = [(site, name, ok, None if ok else reason(node)) for site, name, ok, node in every.values()]
    return found


def reason(node) -> tuple:
    """(text, site or None): why ``node``'s output shape is unknown."""
    seen = 0
    while seen < MAX_WALK:
        seen += 1
        shape = node.inputs[0] if node.inputs else None
        if any(p.fatal for p in node.problems):
            return f"{node.name} fails on its input (a finding)", node.def_site
        if known(shape):
            unknown = [name for name, value in node.params.items() if value is UNKNOWN]
            if unknown:
                return f"{', '.join(unknown)} of {node.name} has no known value", node.def_site
            return f"{node.name} does not model its output for these arguments", node.def_site
        source = node.sources[0] if node.sources else None
        if source is None:
            if shape is None:
                return "its input is a tensor of unknown shape (not made by a layer the analysis ran)", None
            return "its input has sizes the analysis could not determine", None
        if known(source.output) or source is node:
            return f"its input comes from {source.name}, whose output shape is partly unknown", source.def_site
        node = source
    return "its input's shape is unknown", None


__all__ = ["Coverage", "measure", "reason", "known"]
