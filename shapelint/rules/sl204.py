"""SL204 transpose-output-size: a transposed convolution asked for an output its input cannot give."""

from shapelint.rules.base import Rule


def describe(problem, node, span_of):
    d = problem.data
    return (f"{node.name}: output_shape asks for {d['dim']} {d['requested']} but the input's {d['dim']} is "
            f"{d['got']}; the transpose must invert a kernel-{d['kernel']}, stride-{d['stride']} "
            f"{d['padding']!r} convolution, which turns {d['requested']} into {d['computed']}")


RULE = Rule("SL204", "transpose-output-size", "error",
            "a transposed convolution's output_shape cannot be produced from its input size",
            kinds=("transpose_size",), describe=describe)
