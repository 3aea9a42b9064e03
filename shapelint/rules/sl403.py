"""SL403 loss-target-broadcast: a regression loss broadcasts targets of another size (torch warns)."""

from shapelint.rules.base import Rule, format_shape
from shapelint.rules.sl402 import sources


def describe(problem, node, span_of):
    d = problem.data
    target_from, output_from = sources(problem, node, span_of)
    return (f"{d['loss']}: target {format_shape(d['target'])}{target_from} vs input "
            f"{format_shape(d['output'])}{output_from}: the loss broadcasts them and averages over the wrong "
            f"pairs; make the two the same size (torch warns: {d['torch']})")


RULE = Rule("SL403", "loss-target-broadcast", "warning",
            "a regression loss compares targets of another size than the output, by broadcasting",
            kinds=("loss_broadcast",), describe=describe)
