"""SL102 feature-mismatch: Linear / Dense / matmul / view / reshape disagrees with the flattened size."""

from shapelint.rules.base import Rule, format_shape, origin, undefined_size


def describe(problem, node, span_of):
    d = problem.data
    if d["what"] == "reshape":
        target = "[" + ", ".join("?" if v is None else str(v) for v in d["expected"]) + "]"
        hint = f"; {node.hint}" if node.hint else ""
        return (f"{node.name} to {target} cannot hold the {d['got']} elements of "
                f"{format_shape(node.inputs[0])} ({origin(node, span_of)}){hint}")
    if d["what"] == "undefined":
        return undefined_size(problem, node, span_of)
    if d["what"] == "trailing dims":
        return (f"{node.name} normalizes trailing dims {d['expected']} but receives {d['got']} "
                f"({origin(node, span_of)})")
    hint = f"; {node.hint}" if node.hint else ""
    return (f"{node.name} expects {d['expected']} input features but receives {d['got']}{hint} "
            f"({origin(node, span_of)}; input {format_shape(node.inputs[0])})")


RULE = Rule("SL102", "feature-mismatch", "error",
            "Linear/Dense/matmul/reshape size disagrees with the tensor it receives",
            kinds=("features",), describe=describe)
