"""SL101 conv-channel-mismatch: a layer expects C_in channels and receives another count."""

from shapelint.rules.base import Rule, format_shape, origin, undefined_size


def describe(problem, node, span_of):
    d = problem.data
    if d.get("what") == "undefined":
        return undefined_size(problem, node, span_of)
    return (f"{node.name} expects {d['expected']} input channels but receives {d['got']} "
            f"({origin(node, span_of)}; input {format_shape(node.inputs[0])})")


RULE = Rule("SL101", "channel-mismatch", "error", "Layer receives a different number of channels than it expects",
            kinds=("channels",), describe=describe)
