"""SL105 rank-mismatch: a layer receives a tensor of a rank it rejects."""

from shapelint.rules.base import Rule, format_shape, origin


def describe(problem, node, span_of):
    d = problem.data
    operand = d.get("operand", 0)  # which input has the wrong rank (F.conv2d's weight is 1)
    shape = format_shape(node.inputs[operand]) if len(node.inputs) > operand else "?"
    if "axis" in d:
        return f"{d['what']}={d['axis']} is out of range for a {d['got']}-D tensor {shape} ({origin(node, span_of, operand)})"
    accepted = " or ".join(f"{r}-D" for r in d["accepted"])
    source = origin(node, span_of, operand)
    hint = f"; {d['hint']}" if d.get("hint") and source.startswith(("from LSTM", "from GRU", "from SimpleRNN")) else ""
    return f"{d['what']} expects a {accepted} input but receives a {d['got']}-D tensor {shape} ({source}){hint}"


RULE = Rule("SL105", "rank-mismatch", "error", "Layer receives a tensor of a rank it rejects",
            kinds=("rank",), describe=describe)
