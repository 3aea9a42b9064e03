"""tf.nn shape functions, mirroring TensorFlow's own checks.

Two layers of TensorFlow validate a raw ``tf.nn`` call, and these specs reproduce both:

* the Python wrappers in ``tensorflow/python/ops/nn_ops.py``: ``_get_sequence`` widens
  ``strides`` / ``ksize`` / ``dilations`` given as an int or a 1- or 2-list to the 4-list
  ``[1, s, s, 1]`` (``[1, 1, s, s]`` for NCHW) and rejects other lengths; ``convert_padding``
  takes 'SAME' / 'VALID' or an explicit list of 4 pairs;
* the C++ shape functions (``core/framework/common_shape_fns.cc``: ``Conv2DShapeImpl``,
  ``DepthwiseConv2DNativeShapeImpl``, ``MaxPoolShape``, ``AvgPoolShape``, ``BiasAddShape``,
  ``MatMulShape``; ``core/ops/array_ops.cc``: ``SetOutputShapeForReshape``), whose window sizes
  come from ``GetWindowedOutputSizeFromDims`` — see ``shapes/tf_ops.py``.

Kernel-time checks that every CPU kernel makes (``Conv2D``: "Current implementation does not yet
support strides in the batch and depth dimensions") are modelled too, since the first
``session.run`` hits them.  Every spec names its parameters after TensorFlow's.
"""

from __future__ import annotations

from shapelint.ir import UNKNOWN, Problem
from shapelint.shapes import dims, tf_ops
from shapelint.shapes.common import broadcast
from shapelint.shapes.ops import ImpliedInput, OpSpec, Window

DATA_FORMATS = ("NHWC", "NCHW")
PADDING_STRINGS = tf_ops.TF_PADDING


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def layout(data_format) -> tuple | None:
    """(channel axis, (height axis, width axis)) counted from the end of a rank >= 4 shape."""
    if data_format is None or data_format == "NHWC":
        return -1, (-3, -2)
    if data_format == "NCHW":
        return -3, (-2, -1)
    return None


def sequence(value, name: str, data_format, default=1) -> tuple:
    """``nn_ops._get_sequence(value, 2, channel_index, name)``: (4-tuple or None, problem or None)."""
    if value is None:
        return (default,) * 4, None
    if _is_int(value):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return None, None
    value = list(value)
    if len(value) == 4:
        return tuple(v if _is_int(v) else None for v in value), None
    if len(value) not in (1, 2):
        return None, Problem("strides", {"what": name, "value": value, "reason": "length", "accepted": "1, 2 or 4"})
    if len(value) == 1:
        value = value * 2
    value = [v if _is_int(v) else None for v in value]
    return (tuple([1, 1] + value) if data_format == "NCHW" else tuple([1] + value + [1])), None


def _outer_problems(seq: tuple | None, name: str, data_format) -> list:
    """Non-positive entries (rejected by the shape function) and batch/depth entries != 1."""
    if seq is None:
        return []
    if any(v is not None and v <= 0 for v in seq):
        return [Problem("strides", {"what": name, "value": list(seq), "reason": "positive"})]
    depth = 1 if data_format == "NCHW" else 3
    outer = [seq[0], seq[depth]]
    if any(v is not None and v != 1 for v in outer):
        return [Problem("strides", {"what": name, "value": list(seq), "reason": "batch_depth"})]
    return []


def explicit_pairs(padding, data_format) -> tuple:
    """(((top, bottom), (left, right)) or None, problem or None) for an explicit padding list."""
    if not isinstance(padding, (list, tuple)):
        return None, None
    if len(padding) != 4:
        return None, Problem("padding_value", {"value": list(padding), "accepted": PADDING_STRINGS + ("4 pairs",),
                                               "framework": "tf.nn"})
    pairs = []
    for pair in padding:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not all(_is_int(p) for p in pair):
            return None, None
        pairs.append(tuple(pair))
    outer = (0, 1) if data_format == "NCHW" else (0, 3)
    if any(pairs[i] != (0, 0) for i in outer):
        return None, Problem("padding_value", {"value": [list(p) for p in pairs],
                                               "accepted": ("zero padding of the batch and depth dimensions",),
                                               "framework": "tf.nn"})
    spatial = (2, 3) if data_format == "NCHW" else (1, 2)
    return tuple(pairs[i] for i in spatial), None


def padding_problems(padding, explicit_allowed: bool = True) -> list:
    if isinstance(padding, str):
        if padding not in PADDING_STRINGS and padding != "EXPLICIT":
            return [Problem("padding_value", {"value": padding, "accepted": PADDING_STRINGS, "framework": "tf.nn"})]
        return []
    if isinstance(padding, (list, tuple)) and not explicit_allowed:
        return [Problem("padding_value", {"value": list(padding), "accepted": PADDING_STRINGS, "framework": "tf.nn"})]
    return []


def data_format_problems(data_format, accepted=DATA_FORMATS) -> list:
    if isinstance(data_format, str) and data_format not in accepted:
        return [Problem("layout", {"what": "data_format", "value": data_format, "accepted": accepted})]
    return []


class _Windowed(OpSpec):
    """Shared geometry of conv2d / depthwise_conv2d / max_pool / avg_pool (rank >= 4 inputs)."""

    framework = "tf"
    downsamples = False

    def _format(self, params):
        data_format = params.get("data_format")
        return "NHWC" if data_format is None else data_format

    def _kernel(self, params, inputs):
        raise NotImplementedError

    def _strides(self, params):
        seq, _ = sequence(params.get("strides"), "strides", self._format(params))
        return seq

    def _dilations(self, params):
        seq, _ = sequence(params.get("dilations"), "dilations", self._format(params))
        return seq

    def windows(self, params, inputs):
        x = inputs[0]
        data_format = self._format(params)
        axes = layout(data_format)
        if x is None or len(x) < 4 or axes is None:
            return []
        kernel = self._kernel(params, inputs)
        strides, dilations = self._strides(params), self._dilations(params)
        padding = params.get("padding")
        if kernel is None or strides is None or dilations is None:
            return []
        pairs = None
        if isinstance(padding, (list, tuple)):
            pairs, problem = explicit_pairs(padding, data_format)
            if pairs is None or problem is not None:
                return []
        elif padding not in PADDING_STRINGS:
            return []
        found = []
        for i, axis in enumerate(axes[1]):
            index = axis + 4  # position in the 4-entry strides / dilations
            k, s, d = kernel[i], strides[index], dilations[index]
            if not all(_is_int(v) and v > 0 for v in (k, s, d)):
                return []
            size = x[len(x) + axis]
            effective = d * (k - 1) + 1
            if padding == "SAME":
                out = tf_ops.same_output_size(size, s)
                total = tf_ops.same_padding_total(size, k, s, d) if _is_int(size) else 0
            elif padding == "VALID":
                out = tf_ops.valid_output_size(size, k, s, d)
                total = 0
            else:
                before, after = pairs[i]
                out = tf_ops.explicit_output_size(size, k, s, before, after, d)
                total = before + after
            found.append(Window(len(x) + axis, size, effective, s, total, out))
        return found

    def _collapse(self, params, inputs) -> list:
        for window in self.windows(params, inputs):
            size = window.size
            if _is_int(size) and size + window.padding < window.kernel:
                return [Problem("collapse", {"axis": window.axis, "size": size, "kernel": window.kernel,
                                             "stride": window.stride, "padding": window.padding,
                                             "output": window.output})]
        return []

    def _spatial_output(self, params, inputs, channels):
        x = inputs[0]
        axes = layout(self._format(params))
        if x is None or len(x) < 4 or axes is None:
            return None
        windows = self.windows(params, inputs)
        sizes = [w.output for w in windows] if windows else [None, None]
        out = list(x)
        out[len(x) + axes[0]] = channels
        for axis, size in zip(axes[1], sizes):
            out[len(x) + axis] = size
        return tuple(out)


class Conv2D(_Windowed):
    """tf.nn.conv2d (TF1 and TF2) and tf.nn.depthwise_conv2d: inputs [input, filter]."""

    def __init__(self, name: str = "tf.nn.conv2d", depthwise: bool = False):
        self.name = name
        self.depthwise = depthwise

    def _strides(self, params):
        strides = params.get("strides")
        if self.depthwise:
            # depthwise_conv2d passes strides straight to the op, which wants exactly 4 values.
            if isinstance(strides, (list, tuple)) and len(strides) == 4:
                return tuple(v if _is_int(v) else None for v in strides)
            return None
        return super()._strides(params)

    def _dilations(self, params):
        if self.depthwise:
            rate = params.get("dilations")
            if rate is None:
                return (1, 1, 1, 1)
            if isinstance(rate, (list, tuple)) and len(rate) == 2 and all(_is_int(r) for r in rate):
                strides = self._strides(params)
                if rate != (1, 1) and rate != [1, 1] and (strides is None or any(s != 1 for s in strides)):
                    return None  # with_space_to_batch's own rules; not modelled
                return (1,) + tuple(rate) + (1,) if self._format(params) != "NCHW" else (1, 1) + tuple(rate)
            return None
        return super()._dilations(params)

    def _kernel(self, params, inputs):
        f = inputs[1] if len(inputs) > 1 else None
        if f is None or len(f) != 4:
            return None
        return f[0], f[1]

    def check(self, params, inputs):
        x, f = inputs[0], inputs[1] if len(inputs) > 1 else None
        data_format = self._format(params)
        problems = data_format_problems(data_format)
        if problems or not isinstance(data_format, str):
            return problems
        problems = padding_problems(params.get("padding"))
        if problems:
            return problems
        if isinstance(params.get("padding"), (list, tuple)):
            _, problem = explicit_pairs(params["padding"], data_format)
            if problem is not None:
                return [problem]
        strides_given = params.get("strides")
        if self.depthwise:
            if isinstance(strides_given, (list, tuple)) and len(strides_given) != 4:
                return [Problem("strides", {"what": "strides", "value": list(strides_given), "reason": "length",
                                            "accepted": "4"})]
            if _is_int(strides_given):
                return [Problem("strides", {"what": "strides", "value": strides_given, "reason": "length",
                                            "accepted": "4"})]
            strides = self._strides(params)
        else:
            strides, problem = sequence(strides_given, "strides", data_format)
            if problem is not None:
                return [problem]
        problems = _outer_problems(strides, "strides", data_format)
        if problems:
            return problems
        if not self.depthwise:
            dilations, problem = sequence(params.get("dilations"), "dilations", data_format)
            if problem is not None:
                return [problem]
            problems = _outer_problems(dilations, "dilations", data_format)
            if problems:
                return problems
        if f is not None and len(f) != 4:
            return [Problem("layout", {"what": "filter rank", "got": len(f), "value": list(f)})]
        if x is not None and len(x) < 4:
            return [Problem("rank", {"got": len(x), "accepted": (4,), "what": self.name})]
        if x is None or f is None:
            return []
        channel = x[len(x) + layout(data_format)[0]]
        in_depth = f[2]
        if _is_int(channel) and _is_int(in_depth) and in_depth > 0:
            if self.depthwise and channel != in_depth:
                return [Problem("channels", {"expected": in_depth, "got": channel, "axis": len(x) - 1})]
            if not self.depthwise:
                if channel % in_depth:
                    return [Problem("channels", {"expected": in_depth, "got": channel,
                                                 "axis": len(x) + layout(data_format)[0]})]
                groups = channel // in_depth
                if groups > 1 and _is_int(f[3]) and f[3] % groups:
                    return [Problem("groups", {"which": "filter out-depth", "count": f[3], "groups": groups})]
        return self._collapse(params, inputs)

    def infer(self, params, inputs):
        f = inputs[1] if len(inputs) > 1 else None
        x = inputs[0]
        if x is not None and len(x) > 4 and self.depthwise:
            return None
        channels = None
        if f is not None and len(f) == 4:
            channels = dims.mul(f[2], f[3]) if self.depthwise else f[3]
        return self._spatial_output(params, inputs, channels)

    def implied_input(self, params, inputs):
        data_format = params.get("data_format") or "NHWC"
        if data_format not in DATA_FORMATS:
            return None
        f = inputs[1] if len(inputs) > 1 else None
        depth = f[2] if f is not None and len(f) == 4 and _is_int(f[2]) else None
        return ImpliedInput(2, depth, data_format != "NCHW")


class SeparableConv2D(OpSpec):
    """tf.nn.separable_conv2d: inputs [input, depthwise_filter, pointwise_filter].

    A depthwise_conv2d (exact channel match) followed by a 1x1 conv2d whose in-depth may divide
    the depthwise output (grouped, as for conv2d).
    """

    framework = "tf"

    def __init__(self, name: str = "tf.nn.separable_conv2d"):
        self.name = name
        self.depthwise = Conv2D(name, depthwise=True)
        self.pointwise = Conv2D(name)

    def windows(self, params, inputs):
        return self.depthwise.windows(params, inputs[:2])

    def check(self, params, inputs):
        x, dw, pw = inputs
        problems = self.depthwise.check(params, [x, dw])
        if problems or pw is None:
            return problems
        if len(pw) != 4 or any(_is_int(d) and d != 1 for d in pw[:2]):
            return [Problem("layout", {"what": "pointwise filter", "got": len(pw), "value": list(pw)})]
        middle = self.depthwise.infer(params, [x, dw])
        return self.pointwise.check(self._pointwise_params(params), [middle, pw])

    @staticmethod
    def _pointwise_params(params):
        return {"data_format": params.get("data_format"), "strides": 1, "padding": "VALID"}

    def infer(self, params, inputs):
        x, dw, pw = inputs
        middle = self.depthwise.infer(params, [x, dw])
        return self.pointwise.infer(self._pointwise_params(params), [middle, pw])


class Pool(_Windowed):
    """tf.nn.max_pool / max_pool2d / avg_pool / avg_pool2d: inputs [input]."""

    downsamples = True

    def __init__(self, name: str, kind: str):
        self.name = name
        self.kind = kind

    def _kernel(self, params, inputs):
        seq, _ = sequence(params.get("ksize"), "ksize", self._format(params))
        if seq is None:
            return None
        axes = layout(self._format(params))
        return tuple(seq[a + 4] for a in axes[1]) if axes else None

    def _dilations(self, params):
        return (1, 1, 1, 1)

    def _plain(self, params) -> bool:
        """ksize and strides leave batch and depth alone (depthwise pooling is not modelled)."""
        data_format = self._format(params)
        for name in ("ksize", "strides"):
            seq, _ = sequence(params.get(name), name, data_format)
            if seq is None or not _outer_problems(seq, name, data_format) == []:
                return False
        return True

    def windows(self, params, inputs):
        x = inputs[0]
        if x is None or len(x) != 4 or not self._plain(params):
            return []
        return super().windows(params, inputs)

    def check(self, params, inputs):
        x = inputs[0]
        data_format = self._format(params)
        padding = params.get("padding")
        problems = padding_problems(padding, explicit_allowed=self.kind == "max")
        if problems:
            return problems
        if isinstance(padding, (list, tuple)):
            _, problem = explicit_pairs(padding, data_format)
            if problem is not None:
                return [problem]
        if data_format not in DATA_FORMATS:
            return []
        for name in ("ksize", "strides"):
            seq, problem = sequence(params.get(name), name, data_format)
            if problem is not None:
                return [problem]
            if seq is not None and any(v is not None and v <= 0 for v in seq):
                return [Problem("strides", {"what": name, "value": list(seq), "reason": "positive"})]
            # Both kernels reject windows and strides over the batch; max_pool can pool over depth,
            # avg_pool cannot (though it ignores a depth stride).
            if seq is not None and seq[0] is not None and seq[0] != 1:
                return [Problem("strides", {"what": name, "value": list(seq), "reason": "batch"})]
            depth = seq[1 if data_format == "NCHW" else 3] if seq is not None else None
            if self.kind == "avg" and name == "ksize" and depth is not None and depth != 1:
                return [Problem("strides", {"what": name, "value": list(seq), "reason": "depth_window"})]
        if x is None or len(x) != 4:
            return []
        return self._collapse(params, inputs)

    def infer(self, params, inputs):
        x = inputs[0]
        if x is None or len(x) != 4 or not self._plain(params):
            return None
        axes = layout(self._format(params))
        return self._spatial_output(params, inputs, x[len(x) + axes[0]]) if axes else None

    def implied_input(self, params, inputs):
        data_format = params.get("data_format") or "NHWC"
        return ImpliedInput(2, None, data_format != "NCHW") if data_format in DATA_FORMATS else None


class Conv2DTranspose(OpSpec):
    """tf.nn.conv2d_transpose: inputs [input, filter]; filter is [h, w, out_depth, in_depth].

    The output is the ``output_shape`` argument; TensorFlow checks at graph construction that the
    input depth equals the filter's last dimension.
    """

    framework = "tf"

    def __init__(self, name: str = "tf.nn.conv2d_transpose"):
        self.name = name

    def check(self, params, inputs):
        x, f = inputs[0], inputs[1] if len(inputs) > 1 else None
        data_format = params.get("data_format") or "NHWC"
        problems = data_format_problems(data_format)
        if problems or not isinstance(data_format, str):
            return problems
        problems = padding_problems(params.get("padding"))
        if problems:
            return problems
        strides, problem = sequence(params.get("strides"), "strides", data_format)
        if problem is not None:
            return [problem]
        problems = _outer_problems(strides, "strides", data_format)
        if problems:
            return problems
        if f is not None and len(f) != 4:
            return [Problem("layout", {"what": "filter rank", "got": len(f), "value": list(f)})]
        if x is None or f is None or len(x) != 4:
            return []
        channel = x[layout(data_format)[0] + 4]
        if _is_int(channel) and _is_int(f[3]) and channel != f[3]:
            return [Problem("channels", {"expected": f[3], "got": channel, "axis": layout(data_format)[0] + 4})]
        # The kernel (Conv2DBackpropInput) checks at run time that output_shape's depth is the
        # filter's out-depth, f[2].
        shape = params.get("output_shape")
        if isinstance(shape, tuple) and len(shape) == 4:
            depth = shape[layout(data_format)[0] + 4]
            if _is_int(depth) and _is_int(f[2]) and depth != f[2]:
                return [Problem("layout", {"what": "transpose depth", "got": depth, "value": list(f)})]
            return self._size_problems(params, x, f, shape, strides, data_format)
        return []

    @staticmethod
    def _size_problems(params, x, f, shape, strides, data_format) -> list:
        """The kernel (``ConvBackpropComputeDimensions``) runs the forward window over each spatial
        size of ``output_shape`` and requires exactly the input's size back ("Size of out_backprop
        doesn't match computed")."""
        padding = params.get("padding", "SAME")
        dilations, _ = sequence(params.get("dilations"), "dilations", data_format)
        if padding not in ("SAME", "VALID") or strides is None or dilations is None:
            return []
        for i, axis in enumerate(layout(data_format)[1]):
            size, got, k = shape[axis + 4], x[axis + 4], f[i]
            stride, dilation = strides[axis + 4], dilations[axis + 4]
            if not all(_is_int(v) for v in (size, got, k, stride, dilation)) \
                    or size < 0 or min(k, stride, dilation) < 1:
                continue
            computed = tf_ops.window_output_size(size, k, stride, padding, dilation)
            if computed != got:
                return [Problem("transpose_size", {
                    "axis": axis + 4, "dim": ("height", "width")[i], "requested": size, "got": got,
                    "computed": computed, "kernel": k, "stride": stride, "dilation": dilation,
                    "padding": padding})]
        return []

    def infer(self, params, inputs):
        shape = params.get("output_shape")
        if not isinstance(shape, tuple) or len(shape) != 4:
            return None
        x = inputs[0]
        out = list(shape)
        if x is not None and len(x) == 4 and x[0] is None:
            out[0] = None  # TensorFlow keeps the input's unknown batch in the static shape
        return tuple(out)


class BiasAdd(OpSpec):
    """tf.nn.bias_add: inputs [value, bias]; the bias length must equal the channel count."""

    framework = "tf"

    def __init__(self, name: str = "tf.nn.bias_add"):
        self.name = name

    def _axis(self, params, x):
        data_format = params.get("data_format")
        if data_format is None or (isinstance(data_format, str) and data_format.startswith("N")
                                   and data_format.endswith("C") and not data_format.startswith("NC")):
            return len(x) - 1
        if isinstance(data_format, str) and data_format.startswith("NC") and len(x) >= 3:
            return 1
        return None

    def check(self, params, inputs):
        x, bias = inputs[0], inputs[1]
        if x is None or bias is None or len(bias) != 1 or len(x) < 2:
            return []
        axis = self._axis(params, x)
        if axis is None:
            return []
        if _is_int(x[axis]) and _is_int(bias[0]) and x[axis] != bias[0]:
            return [Problem("merge", {"op": self.name, "shapes": [x, bias], "axis": axis, "a": x[axis], "b": bias[0]})]
        return []

    def infer(self, params, inputs):
        return inputs[0]


class MatMul(OpSpec):
    """tf.matmul / ``a @ b``: inputs [a, b]; batch dims broadcast (BatchMatMulV2)."""

    framework = "tf"

    def __init__(self, name: str = "tf.matmul"):
        self.name = name

    def _dims(self, params, inputs):
        a, b = inputs
        if a is None or b is None or len(a) < 2 or len(b) < 2:
            return None
        flags = [params.get(k, False) for k in ("transpose_a", "transpose_b", "adjoint_a", "adjoint_b")]
        if not all(isinstance(v, bool) for v in flags):
            return None
        ta, tb = flags[0] or flags[2], flags[1] or flags[3]
        m, k_a = (a[-1], a[-2]) if ta else (a[-2], a[-1])
        k_b, n = (b[-1], b[-2]) if tb else (b[-2], b[-1])
        return m, k_a, k_b, n

    def requirement(self, params, inputs):
        found = self._dims(params, inputs)
        if found is None or not _is_int(found[2]):
            return None
        return "equals", found[1], found[2]

    def check(self, params, inputs):
        a = inputs[0]
        if a is not None and len(a) < 2:
            return [Problem("rank", {"got": len(a), "accepted": (2,), "what": self.name})]
        found = self._dims(params, inputs)
        if found is None:
            return []
        _, k_a, k_b, _ = found
        if _is_int(k_a) and _is_int(k_b) and k_a != k_b:
            return [Problem("features", {"expected": k_b, "got": k_a, "what": "matmul"})]
        a, b = inputs
        _, conflict = broadcast([tuple(a[:-2]), tuple(b[:-2])])
        if conflict:
            # BatchMatMulV2 broadcasts the leading (batch) dims like an elementwise op.
            axis, x, y = conflict  # axis counts in the longer operand: broadcasting aligns right
            return [Problem("merge", {"op": self.name, "shapes": [a, b], "axis": axis, "a": x, "b": y})]
        return []

    def infer(self, params, inputs):
        found = self._dims(params, inputs)
        if found is None:
            return None
        m, _, _, n = found
        a, b = inputs
        batch, conflict = broadcast([tuple(a[:-2]), tuple(b[:-2])])
        if conflict or batch is None:
            return None
        return tuple(batch) + (m, n)

    def implied_input(self, params, inputs):
        b = inputs[1] if len(inputs) > 1 else None
        if b is None or len(b) != 2 or params.get("transpose_a") or params.get("transpose_b") or not _is_int(b[0]):
            return None
        return ImpliedInput(0, b[0], channels_last=True)


class Reshape(OpSpec):
    """tf.reshape: the checks of ``SetOutputShapeForReshape`` (array_ops.cc).

    TensorFlow proves a reshape wrong at graph construction only when (a) the input is fully
    known and the target's known sizes cannot tile it, or (b) the target is fully known and not a
    multiple of the input's known sizes.  An unknown batch with a ``-1`` is never provably wrong.
    """

    framework = "tf"

    def __init__(self, name: str = "tf.reshape"):
        self.name = name

    def requirement(self, params, inputs):
        """For one example (batch 1): its element count against the target's known sizes."""
        x, target = inputs[0], params.get("shape")
        if x is None or not x or not isinstance(target, tuple) or sum(1 for d in target if d == -1) != 1:
            return None
        known = [d for d in target if d != -1]
        if not all(_is_int(d) for d in known):
            return None
        per_example = dims.product(x[1:]) if x[0] is None else dims.product(x)
        total = 1
        for d in known:
            total *= d
        return "divisible", per_example, total

    def check(self, params, inputs):
        x, target = inputs[0], params.get("shape")
        if x is None or not isinstance(target, tuple):
            return []
        if sum(1 for d in target if d == -1) > 1 or any(d is not None and not _is_int(d) for d in target):
            return []
        known_target = [d for d in target if d != -1]
        if any(d is None for d in known_target):
            return []
        target_product = 1
        for d in known_target:
            target_product *= d
        data = {"expected": list(target), "input": list(x), "what": "reshape"}
        if all(_is_int(d) for d in x):
            total = dims.product(x)
            if -1 in target:
                bad = target_product == 0 or total % target_product != 0
            else:
                bad = target_product != total
            return [Problem("features", {**data, "got": total})] if bad else []
        if -1 in target:
            return []
        known_input = 1
        for d in x:
            if _is_int(d):
                known_input *= d
        if known_input and target_product % known_input:
            return [Problem("features", {**data, "got": f"a multiple of {known_input}"})]
        return []

    def infer(self, params, inputs):
        x, target = inputs[0], params.get("shape")
        if not isinstance(target, tuple):
            return None
        out = [d if _is_int(d) else None for d in target]
        if -1 in out:
            total = dims.product(x) if x is not None else None
            rest = dims.product(d for d in out if d != -1)
            out[out.index(-1)] = dims.floordiv(total, rest) if _is_int(total) and _is_int(rest) and rest else None
        return tuple(out)


class Flatten(OpSpec):
    """tf.layers.flatten / tf.contrib.layers.flatten / tf.keras.layers.Flatten: [batch, rest]."""

    framework = "tf"

    def __init__(self, name: str):
        self.name = name

    def infer(self, params, inputs):
        x = inputs[0]
        if x is None or len(x) < 1:
            return None
        if len(x) == 1:
            return (x[0], 1)
        return (x[0], dims.product(x[1:]))


class Identity(OpSpec):
    """Activations, dropout, normalisation and casts: the output has the input's shape."""

    framework = "tf"

    def __init__(self, name: str):
        self.name = name

    def infer(self, params, inputs):
        return inputs[0]


class ImageResize(OpSpec):
    """tf.image.resize / resize_images / resize_bilinear / ...: NHWC images (4-D, or one 3-D image)
    resized to ``size`` = [height, width]; batch and channels pass through.  No check: only the
    output is inferred (``preserve_aspect_ratio=True`` leaves it unknown)."""

    framework = "tf"

    def __init__(self, name: str):
        self.name = name

    def infer(self, params, inputs):
        x, size = inputs[0], params.get("size")
        if x is None or len(x) not in (3, 4) or params.get("preserve_aspect_ratio") not in (None, False):
            return None
        if not isinstance(size, (list, tuple)) or len(size) != 2 or not all(_is_int(d) and d > 0 for d in size):
            return None
        return x[:-3] + (size[0], size[1], x[-1])


class Source(OpSpec):
    """Where a tensor that is not the model input comes from (tf.Variable, tf.zeros, ...): for messages."""

    framework = "tf"

    def __init__(self, name: str):
        self.name = name


def literal_shape(value) -> tuple | None:
    """The shape of a nested Python list of numbers (what tf.constant / tf.Variable make of it)."""
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return ()
    if isinstance(value, (list, tuple)):
        if not value:
            return (0,)
        inner = [literal_shape(v) for v in value]
        if any(s is None for s in inner) or len(set(inner)) != 1:
            return None
        return (len(value),) + inner[0]
    return None


def as_shape(value) -> tuple | None:
    """A shape argument (``[None, 28, 28, 1]``, ``(8, 8, 3, 20)``, ``20``) as a tuple of dims."""
    if value is UNKNOWN:
        return None
    if _is_int(value):
        return (value,) if value >= 0 else None
    if not isinstance(value, (list, tuple)):
        return None
    out = []
    for d in value:
        if d is None or d is UNKNOWN:
            out.append(None)
        elif _is_int(d) and d >= 0:
            out.append(d)
        elif _is_int(d) and d == -1:
            out.append(None)
        elif isinstance(d, dims.Expr):
            out.append(d)
        else:
            return None
    return tuple(out)


__all__ = ["Source", "ImageResize", "Conv2D", "SeparableConv2D", "Pool", "Conv2DTranspose", "BiasAdd", "MatMul",
           "Reshape", "Flatten", "Identity", "literal_shape", "as_shape", "sequence", "layout"]
