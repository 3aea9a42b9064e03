"""SL106 model-input-mismatch: a Keras functional model called on a tensor its Input rejects."""

from shapelint.rules.base import Rule, format_shape


def describe(problem, node, span_of):
    d = problem.data
    return (f"{d['model']} was built for inputs of shape {format_shape(tuple(d['expected']))} but is called on "
            f"{format_shape(tuple(d['got']))} (dim {d['axis']} differs)")


RULE = Rule("SL106", "model-input-mismatch", "error",
            "a Keras functional model called on a tensor whose shape its Input rejects",
            kinds=("model_input",), describe=describe)
