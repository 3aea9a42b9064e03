"""SL307 strided-dilation: a Keras convolution given both strides > 1 and dilation_rate > 1."""

from shapelint.rules.base import Rule


def describe(problem, node, span_of):
    d = problem.data
    return (f"{node.name}: strides={tuple(d['strides'])} with dilation_rate={tuple(d['dilation'])}; Keras "
            f"accepts strides > 1 or dilation_rate > 1, not both")


RULE = Rule("SL307", "strided-dilation", "error",
            "a Keras convolution with both strides > 1 and dilation_rate > 1",
            kinds=("strided_dilation",), describe=describe)
