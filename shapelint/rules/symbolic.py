"""Findings that need the input-size solver: a model with no declared input that no input
size in 1..4096 satisfies.  They are reported under the code of the constraint that fails
(SL102 features, SL103 merge, SL201 collapse, ...), on the layer that rules out the last size.
"""

from __future__ import annotations

from shapelint.ir import Finding
from shapelint.rules.base import origin
from shapelint.shapes import solve
from shapelint.shapes.dims import format_shape

KIND_CODES = {"features": "SL102", "merge": "SL103", "collapse": "SL201", "channels": "SL101", "rank": "SL105"}


def needs_solving(model) -> bool:
    """Cheap test: a symbolic model with a size constraint the plain checks could not decide."""
    if not solve.free_sizes(model):
        return False
    # Ops whose only size-dependent failure is a collapse reject only inputs smaller than some
    # bound, merges of one shape never fail, and some ops check no size at all: none of them can
    # make every size fail.
    return any(n.inputs and not n.problems and not n.speculative and (
        n.op.requirement(n.params, n.inputs) is not None
        or (n.op.checks_sizes(n.params) and not (n.op.monotone(n.params)
                                                 or (n.op.merges and solve.merge_always_fits(n.inputs)))))
        for n in model.nodes)


def findings(model) -> list:
    if not needs_solving(model):
        return []
    solution = solve.solve(model)
    model.solution = solution
    if solution is None:
        return []
    found = []
    for node in solution.unsatisfiable:
        need = node.op.requirement(node.params, node.inputs)
        if need is not None:
            kind, value, target = need
            code = "SL102"
            text = (f"{node.name} needs {'exactly' if kind == 'equals' else 'a multiple of'} {target} "
                    f"{'input features' if node.name.startswith(('Linear', 'F.linear')) else 'elements'}, "
                    f"but no input size up to {solve.BOUND} gives that: the size is {value}")
        else:
            code, text = _first_problem(node)
            if code is None:
                continue
        found.append(Finding(code, node.def_site, lambda span_of, n=node, t=text: (
            f"{t} ({origin(n, span_of)}; input {format_shape(n.inputs[0])})"), node))
    return found


def _first_problem(node):
    """The code and wording of what the node rejects, taken from its own check at size 1."""
    env = {s: 1 for s in set().union(*(d.symbols() for d in solve.dims_of(node)))}
    env[solve.BATCH] = 1
    inputs = [solve.substitute(x, env) for x in node.inputs]
    params = {k: solve.substitute(v, env) for k, v in node.params.items()}
    for problem in node.op.check(params, inputs):
        code = KIND_CODES.get(problem.kind)
        if code and problem.fatal:
            return code, f"{node.name} rejects every input size up to {solve.BOUND} ({problem.kind})"
    return None, None
