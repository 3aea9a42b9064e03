"""PyTorch shape functions, mirroring ``torch/_meta_registrations.py`` and ATen's checks.

Conv / pool output size (``_formula`` in torch's meta registrations)::

    out = floor((in + 2*p - d*(k - 1) - 1) / s) + 1

with ``ceil_mode`` pools rounding up and dropping a last window that would start in the
right padding.  Transposed conv: ``(in - 1)*s - 2*p + d*(k - 1) + output_padding + 1``.
"""

from __future__ import annotations

from shapelint.ir import UNKNOWN, Problem
from shapelint.shapes import dims
from shapelint.shapes.common import normalize_axis
from shapelint.shapes.dims import Dim
from shapelint.shapes.ops import REQUIRED, ImpliedInput, OpSpec, Window, as_int, as_ints, known_ints, rank_problem

PADDING_STRINGS = ("same", "valid")


def conv_output_size(size: Dim, kernel: int, stride: int, padding: int, dilation: int) -> Dim:
    effective = dilation * (kernel - 1) + 1
    return dims.add(dims.floordiv(dims.sub(dims.add(size, 2 * padding), effective), stride), 1)


def pool_output_size(size: Dim, kernel: int, stride: int, padding: int, dilation: int,
                     ceil_mode: bool) -> Dim:
    if not ceil_mode:
        return conv_output_size(size, kernel, stride, padding, dilation)
    if not isinstance(size, int):
        return None  # the ceil_mode correction needs a concrete size
    effective = dilation * (kernel - 1) + 1
    out = -(-(size + 2 * padding - effective) // stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


def conv_transpose_output_size(size: Dim, kernel: int, stride: int, padding: int,
                               dilation: int, output_padding: int) -> Dim:
    grown = dims.mul(dims.sub(size, 1), stride)
    return dims.add(grown, -2 * padding + dilation * (kernel - 1) + output_padding + 1)


def _is_positive(value: Dim) -> bool | None:
    return value > 0 if isinstance(value, int) else None


class Conv(OpSpec):
    """nn.Conv{1,2,3}d, nn.ConvTranspose{1,2,3}d and nn.LazyConv*d."""

    size_monotone = True
    downsamples = False

    def __init__(self, n: int, transposed: bool = False, lazy: bool = False):
        self.n = n
        self.transposed = transposed
        self.lazy = lazy
        prefix = "LazyConv" if lazy else "Conv"
        self.name = f"{prefix}{'Transpose' if transposed else ''}{n}d"
        head = (("out_channels", REQUIRED),) if lazy else (("in_channels", REQUIRED), ("out_channels", REQUIRED))
        if transposed:
            tail = (("kernel_size", REQUIRED), ("stride", 1), ("padding", 0), ("output_padding", 0),
                    ("groups", 1), ("bias", True), ("dilation", 1), ("padding_mode", "zeros"))
        else:
            tail = (("kernel_size", REQUIRED), ("stride", 1), ("padding", 0), ("dilation", 1),
                    ("groups", 1), ("bias", True), ("padding_mode", "zeros"))
        self.signature = head + tail + (("device", None), ("dtype", None))

    def check_params(self, params):
        problems = []
        groups = as_int(params.get("groups"))
        if groups is not None and groups > 0:
            for which in ("in_channels", "out_channels"):
                count = as_int(params.get(which))
                if count is not None and count % groups:
                    problems.append(Problem("groups", {"which": which, "count": count, "groups": groups}))
        padding = params.get("padding")
        if isinstance(padding, str):
            if padding not in PADDING_STRINGS:
                problems.append(Problem("padding_value", {"value": padding, "accepted": PADDING_STRINGS,
                                                          "framework": "PyTorch"}))
            elif padding == "same":
                stride = as_ints(params.get("stride"), self.n)
                if stride is not None and any(s is not None and s != 1 for s in stride):
                    problems.append(Problem("same_stride", {"stride": params.get("stride")}))
        return problems

    def _geometry(self, params):
        kernel = as_ints(params.get("kernel_size"), self.n)
        stride = as_ints(params.get("stride"), self.n)
        dilation = as_ints(params.get("dilation"), self.n)
        padding = params.get("padding")
        if padding == "valid":
            padding = (0,) * self.n
        elif isinstance(padding, str):
            padding = padding  # 'same' or invalid: handled by the callers
        else:
            padding = as_ints(padding, self.n)
        return kernel, stride, padding, dilation

    def windows(self, params, inputs):
        x = inputs[0]
        if x is None or len(x) not in (self.n + 1, self.n + 2) or self.transposed:
            return []
        kernel, stride, padding, dilation = self._geometry(params)
        if isinstance(padding, str) or not all(map(known_ints, (kernel, stride, padding, dilation))):
            return []
        found = []
        for i in range(self.n):
            axis = len(x) - self.n + i
            out = conv_output_size(x[axis], kernel[i], stride[i], padding[i], dilation[i])
            found.append(Window(axis, x[axis], dilation[i] * (kernel[i] - 1) + 1, stride[i], 2 * padding[i], out))
        return found

    def check(self, params, inputs):
        x = inputs[0]
        problems = rank_problem(x, (self.n + 1, self.n + 2), self.name)
        if problems or x is None:
            return problems
        axis = len(x) - self.n - 1
        expected = None if self.lazy else as_int(params.get("in_channels"))
        got = x[axis]
        if expected is not None and isinstance(got, int) and got != expected:
            problems.append(Problem("channels", {"expected": expected, "got": got, "axis": axis}))
            return problems
        if self.transposed:
            out_sizes = self._transposed_sizes(params, x)
            for i, out in enumerate(out_sizes or ()):
                # A negative size always raises; an empty (0) one raises on some backends only
                # (slow_conv_transpose2d checks "output size is too small", mkldnn does not).
                if isinstance(out, int) and out < 0:
                    problems.append(Problem("collapse", {"axis": len(x) - self.n + i, "size": x[len(x) - self.n + i],
                                                         "output": out}))
            return problems
        for window in self.windows(params, inputs):
            if _is_positive(window.output) is False:
                problems.append(Problem("collapse", {"axis": window.axis, "size": window.size,
                                                     "kernel": window.kernel, "stride": window.stride,
                                                     "padding": window.padding, "output": window.output}))
                break
        return problems

    def _transposed_sizes(self, params, x):
        kernel, stride, padding, dilation = self._geometry(params)
        output_padding = as_ints(params.get("output_padding"), self.n)
        if isinstance(padding, str) or not all(map(known_ints, (kernel, stride, padding, dilation, output_padding))):
            return None
        return [conv_transpose_output_size(x[len(x) - self.n + i], kernel[i], stride[i], padding[i],
                                           dilation[i], output_padding[i]) for i in range(self.n)]

    def infer(self, params, inputs):
        x = inputs[0]
        if x is None:
            return None
        out_channels = as_int(params.get("out_channels"))
        lead = x[: len(x) - self.n - 1]
        if self.transposed:
            sizes = [None if s == 0 else s for s in self._transposed_sizes(params, x) or [None] * self.n]
        elif params.get("padding") == "same":
            sizes = list(x[len(x) - self.n:])
        else:
            windows = self.windows(params, inputs)
            sizes = [w.output for w in windows] if windows else [None] * self.n
        return tuple(lead) + (out_channels,) + tuple(sizes)

    def implied_input(self, params, inputs):
        channels = None if self.lazy else as_int(params.get("in_channels"))
        return ImpliedInput(self.n, channels)


class Pool(OpSpec):
    """nn.MaxPool{1,2,3}d / nn.AvgPool{1,2,3}d and their functional forms."""

    size_monotone = True
    downsamples = True

    def __init__(self, n: int, kind: str, functional: bool = False):
        self.n = n
        self.kind = kind
        base = "max_pool" if kind == "max" else "avg_pool"
        self.name = f"F.{base}{n}d" if functional else f"{'Max' if kind == 'max' else 'Avg'}Pool{n}d"
        lead = (("input", REQUIRED),) if functional else ()
        if kind == "max":
            rest = (("kernel_size", REQUIRED), ("stride", None), ("padding", 0), ("dilation", 1),
                    ("ceil_mode", False), ("return_indices", False))
            if not functional:
                rest = rest[:4] + (("return_indices", False), ("ceil_mode", False))
        else:
            rest = (("kernel_size", REQUIRED), ("stride", None), ("padding", 0), ("ceil_mode", False),
                    ("count_include_pad", True), ("divisor_override", None))
        self.signature = lead + rest

    def _geometry(self, params):
        kernel = as_ints(params.get("kernel_size"), self.n)
        stride = params.get("stride")
        stride = kernel if stride is None or stride == () or stride == [] else as_ints(stride, self.n)
        padding = as_ints(params.get("padding"), self.n)
        dilation = as_ints(params.get("dilation", 1), self.n) if self.kind == "max" else (1,) * self.n
        ceil_mode = params.get("ceil_mode")
        return kernel, stride, padding, dilation, ceil_mode

    def windows(self, params, inputs):
        x = inputs[0]
        if x is None or len(x) not in (self.n + 1, self.n + 2):
            return []
        kernel, stride, padding, dilation, ceil_mode = self._geometry(params)
        if not all(map(known_ints, (kernel, stride, padding, dilation))) or not isinstance(ceil_mode, bool):
            return []
        found = []
        for i in range(self.n):
            axis = len(x) - self.n + i
            out = pool_output_size(x[axis], kernel[i], stride[i], padding[i], dilation[i], ceil_mode)
            found.append(Window(axis, x[axis], dilation[i] * (kernel[i] - 1) + 1, stride[i], 2 * padding[i], out))
        return found

    def check(self, params, inputs):
        x = inputs[0]
        problems = rank_problem(x, (self.n + 1, self.n + 2), self.name)
        if problems or x is None:
            return problems
        kernel, _, padding, _, _ = self._geometry(params)
        if known_ints(kernel) and known_ints(padding):
            for k, p in zip(kernel, padding):
                if p > k // 2:
                    return [Problem("pool_padding", {"kernel": params.get("kernel_size"), "padding": p})]
        for window in self.windows(params, inputs):
            if _is_positive(window.output) is False:
                return [Problem("collapse", {"axis": window.axis, "size": window.size, "kernel": window.kernel,
                                             "stride": window.stride, "padding": window.padding,
                                             "output": window.output})]
        return []

    def infer(self, params, inputs):
        x = inputs[0]
        if x is None:
            return None
        windows = self.windows(params, inputs)
        sizes = [w.output for w in windows] if windows else [None] * self.n
        return tuple(x[: len(x) - self.n]) + tuple(sizes)

    def implied_input(self, params, inputs):
        return ImpliedInput(self.n)


class AdaptivePool(OpSpec):
    size_monotone = True

    def __init__(self, n: int, kind: str, functional: bool = False):
        self.n = n
        self.name = (f"F.adaptive_{kind}_pool{n}d" if functional
                     else f"Adaptive{'Max' if kind == 'max' else 'Avg'}Pool{n}d")
        lead = (("input", REQUIRED),) if functional else ()
        self.signature = lead + (("output_size", REQUIRED),) + ((("return_indices", False),) if kind == "max" else ())

    def check(self, params, inputs):
        return rank_problem(inputs[0], (self.n + 1, self.n + 2), self.name)

    def infer(self, params, inputs):
        x = inputs[0]
        if x is None:
            return None
        size = params.get("output_size")
        if isinstance(size, int) and not isinstance(size, bool):
            size = (size,) * self.n
        if not isinstance(size, (tuple, list)) or len(size) != self.n:
            return tuple(x[: len(x) - self.n]) + (None,) * self.n
        spatial = x[len(x) - self.n:]
        out = tuple(spatial[i] if s is None else (s if isinstance(s, int) else None) for i, s in enumerate(size))
        return tuple(x[: len(x) - self.n]) + out

    def implied_input(self, params, inputs):
        return ImpliedInput(self.n)


class BatchNorm(OpSpec):
    size_monotone = True

    def __init__(self, n: int):
        self.n = n
        self.name = f"BatchNorm{n}d"
        self.signature = (("num_features", REQUIRED), ("eps", 1e-5), ("momentum", 0.1), ("affine", True),
                          ("track_running_stats", True), ("device", None), ("dtype", None))
        self.ranks = (2, 3) if n == 1 else (n + 2,)

    def check(self, params, inputs):
        x = inputs[0]
        problems = rank_problem(x, self.ranks, self.name)
        if problems or x is None:
            return problems
        expected = as_int(params.get("num_features"))
        if expected is not None and isinstance(x[1], int) and x[1] != expected:
            return [Problem("channels", {"expected": expected, "got": x[1], "axis": 1})]
        return []

    def infer(self, params, inputs):
        return inputs[0]

    def implied_input(self, params, inputs):
        # Only BatchNorm2d names a rank (4-D) and a channel count together; a Linear first layer
        # says nothing of the rank: (N, F), (N, L, F) and (F,) are all valid inputs.
        channels = as_int(params.get("num_features"))
        return ImpliedInput(2, channels) if self.n == 2 and channels is not None else None


class GroupNorm(OpSpec):
    size_monotone = True

    name = "GroupNorm"
    signature = (("num_groups", REQUIRED), ("num_channels", REQUIRED), ("eps", 1e-5), ("affine", True),
                 ("device", None), ("dtype", None))

    def check_params(self, params):
        groups, channels = as_int(params.get("num_groups")), as_int(params.get("num_channels"))
        if groups and channels is not None and channels % groups:
            return [Problem("groups", {"which": "num_channels", "count": channels, "groups": groups})]
        return []

    def check(self, params, inputs):
        x = inputs[0]
        if x is None or len(x) < 2:
            return rank_problem(x, (2, 3, 4, 5), self.name) if x is not None else []
        expected = as_int(params.get("num_channels"))
        if expected is not None and isinstance(x[1], int) and x[1] != expected:
            return [Problem("channels", {"expected": expected, "got": x[1], "axis": 1})]
        return []

    def infer(self, params, inputs):
        return inputs[0]


class LayerNorm(OpSpec):
    name = "LayerNorm"
    signature = (("normalized_shape", REQUIRED), ("eps", 1e-5), ("elementwise_affine", True), ("bias", True),
                 ("device", None), ("dtype", None))

    def check(self, params, inputs):
        x = inputs[0]
        shape = params.get("normalized_shape")
        if isinstance(shape, int) and not isinstance(shape, bool):
            shape = (shape,)
        if x is None or not isinstance(shape, (tuple, list)) or not known_ints(shape):
            return []
        tail = x[len(x) - len(shape):] if len(x) >= len(shape) else None
        if tail is None:
            return [Problem("rank", {"got": len(x), "accepted": tuple(range(len(shape), len(shape) + 4)),
                                     "what": self.name})]
        if all(isinstance(d, int) for d in tail) and tuple(tail) != tuple(shape):
            return [Problem("features", {"expected": list(shape), "got": list(tail), "what": "trailing dims"})]
        return []

    def infer(self, params, inputs):
        return inputs[0]


class Linear(OpSpec):
    name = "Linear"
    signature = (("in_features", REQUIRED), ("out_features", REQUIRED), ("bias", True), ("device", None),
                 ("dtype", None))

    def __init__(self, lazy: bool = False):
        self.lazy = lazy
        if lazy:
            self.name = "LazyLinear"
            self.signature = (("out_features", REQUIRED), ("bias", True), ("device", None), ("dtype", None))

    def requirement(self, params, inputs):
        expected = None if self.lazy else as_int(params.get("in_features"))
        if inputs[0] and expected is not None:
            return "equals", inputs[0][-1], expected
        return None

    def check(self, params, inputs):
        x = inputs[0]
        if x is None:
            return []
        if len(x) == 0:
            return [Problem("rank", {"got": 0, "accepted": (1, 2, 3, 4, 5), "what": self.name})]
        expected = None if self.lazy else as_int(params.get("in_features"))
        if expected is not None and isinstance(x[-1], int) and x[-1] != expected:
            return [Problem("features", {"expected": expected, "got": x[-1], "what": "in_features"})]
        return []

    def infer(self, params, inputs):
        x = inputs[0]
        return None if x is None else tuple(x[:-1]) + (as_int(params.get("out_features")),)


def flatten_shape(x, start, end):
    rank = len(x)
    if rank == 0:
        return (1,)
    s, e = normalize_axis(start, rank), normalize_axis(end, rank)
    if s is None or e is None or s > e:
        return None
    return tuple(x[:s]) + (dims.product(x[s:e + 1]),) + tuple(x[e + 1:])


class Flatten(OpSpec):
    """nn.Flatten (start_dim=1), torch.flatten / Tensor.flatten (start_dim=0)."""

    size_monotone = True

    def __init__(self, name: str, start_default: int, functional: bool):
        self.name = name
        lead = (("input", REQUIRED),) if functional else ()
        self.signature = lead + (("start_dim", start_default), ("end_dim", -1))

    def check(self, params, inputs):
        x = inputs[0]
        if x is None or len(x) == 0:
            return []
        for key in ("start_dim", "end_dim"):
            axis = params.get(key)
            if isinstance(axis, int) and not isinstance(axis, bool) and normalize_axis(axis, len(x)) is None:
                return [Problem("rank", {"got": len(x), "axis": axis, "what": f"{self.name} {key}"})]
        return []

    def infer(self, params, inputs):
        x = inputs[0]
        return None if x is None else flatten_shape(x, params.get("start_dim"), params.get("end_dim"))


class Upsample(OpSpec):
    size_monotone = True

    def __init__(self, functional: bool = False):
        self.name = "F.interpolate" if functional else "Upsample"
        lead = (("input", REQUIRED),) if functional else ()
        self.signature = lead + (("size", None), ("scale_factor", None), ("mode", "nearest"), ("align_corners", None))

    def check(self, params, inputs):
        x = inputs[0]
        out = self.infer(params, inputs)
        if x is None or out is None:
            return []
        for axis in range(2, len(x)):
            if isinstance(out[axis], int) and out[axis] <= 0:
                # upsample_nearest / interpolate: "Input and output sizes should be greater than 0"
                return [Problem("collapse", {"axis": axis, "size": x[axis], "output": out[axis]})]
        return []

    def infer(self, params, inputs):
        x = inputs[0]
        if x is None or len(x) < 3:
            return None
        n = len(x) - 2
        size, scale = params.get("size"), params.get("scale_factor")
        if size is not None:
            sizes = as_ints(size, n)
            return tuple(x[:2]) + (tuple(sizes) if sizes else (None,) * n)
        if isinstance(scale, (int, float)) and not isinstance(scale, bool):
            scale = (scale,) * n
        if isinstance(scale, (tuple, list)) and len(scale) == n and all(isinstance(v, (int, float)) for v in scale):
            out = []
            for d, f in zip(x[2:], scale):
                if isinstance(f, int):
                    out.append(dims.mul(d, f))
                else:
                    out.append(int(d * f) if isinstance(d, int) else None)
            return tuple(x[:2]) + tuple(out)
        return tuple(x[:2]) + (None,) * n


class Pad(OpSpec):
    """nn.ZeroPad2d and friends: padding (left, right, top, bottom) from the last dim backwards."""

    size_monotone = True

    def __init__(self, name: str, n: int, constant: bool = False):
        self.name = name
        self.n = n
        self.signature = (("padding", REQUIRED),) + ((("value", REQUIRED),) if constant else ())

    def infer(self, params, inputs):
        x = inputs[0]
        padding = params.get("padding")
        if x is None:
            return None
        if isinstance(padding, int) and not isinstance(padding, bool):
            padding = (padding,) * (2 * self.n)
        if not isinstance(padding, (tuple, list)) or len(padding) != 2 * self.n or not known_ints(padding):
            return tuple(x[: len(x) - self.n]) + (None,) * self.n
        out = list(x)
        for i in range(self.n):
            axis = len(x) - 1 - i
            out[axis] = dims.add(x[axis], padding[2 * i] + padding[2 * i + 1])
        return tuple(out)


class Embedding(OpSpec):
    """nn.Embedding: integer indices of any shape -> that shape + (embedding_dim,)."""

    size_monotone = True

    name = "Embedding"
    signature = (("num_embeddings", REQUIRED), ("embedding_dim", REQUIRED), ("padding_idx", None),
                 ("max_norm", None), ("norm_type", 2.0), ("scale_grad_by_freq", False), ("sparse", False),
                 ("_weight", None), ("_freeze", False), ("device", None), ("dtype", None))

    def infer(self, params, inputs):
        x = inputs[0]
        return None if x is None else tuple(x) + (as_int(params.get("embedding_dim")),)


class FunctionalPad(OpSpec):
    """F.pad(input, pad): ``pad`` holds (before, after) pairs from the last dim backwards."""

    size_monotone = True

    name = "F.pad"
    signature = (("input", REQUIRED), ("pad", REQUIRED), ("mode", "constant"), ("value", None))

    def infer(self, params, inputs):
        x, pad = inputs[0], params.get("pad")
        if x is None:
            return None
        if not isinstance(pad, (tuple, list)) or len(pad) % 2 or len(pad) // 2 > len(x) or not known_ints(pad):
            return None
        out = list(x)
        for i in range(len(pad) // 2):
            axis = len(x) - 1 - i
            out[axis] = dims.add(x[axis], pad[2 * i] + pad[2 * i + 1])
        return tuple(out)


class RNN(OpSpec):
    """nn.RNN / nn.LSTM / nn.GRU: (L, N, H_in) or batch_first (N, L, H_in), or unbatched (L, H_in)
    -> the same layout with H_in replaced by D * H_out (``check_input`` in torch/nn/modules/rnn.py)."""

    def __init__(self, kind: str):
        self.name = kind
        head = (("input_size", REQUIRED), ("hidden_size", REQUIRED), ("num_layers", 1))
        if kind == "RNN":
            head += (("nonlinearity", "tanh"),)
        tail = (("bias", True), ("batch_first", False), ("dropout", 0.0), ("bidirectional", False))
        if kind == "LSTM":
            tail += (("proj_size", 0),)
        self.signature = head + tail + (("device", None), ("dtype", None))

    def check(self, params, inputs):
        x = inputs[0]
        problems = rank_problem(x, (2, 3), self.name)
        if problems or x is None:
            return problems
        expected = as_int(params.get("input_size"))
        if expected is not None and isinstance(x[-1], int) and x[-1] != expected:
            return [Problem("features", {"expected": expected, "got": x[-1], "what": "input_size"})]
        return []

    def infer(self, params, inputs):
        x = inputs[0]
        if x is None:
            return None
        bidirectional = params.get("bidirectional")
        proj = params.get("proj_size", 0)
        hidden = as_int(proj) if as_int(proj) else as_int(params.get("hidden_size"))
        if not isinstance(bidirectional, bool) or as_int(proj) is None or hidden is None:
            return tuple(x[:-1]) + (None,)
        return tuple(x[:-1]) + ((2 if bidirectional else 1) * hidden,)


class TransformerEncoderLayer(OpSpec):
    """nn.TransformerEncoderLayer: (L, N, E) / batch_first (N, L, E) / unbatched (L, E) -> same shape;
    E must equal d_model (MultiheadAttention asserts "was expecting embedding dimension of ...")."""

    name = "TransformerEncoderLayer"
    signature = (("d_model", REQUIRED), ("nhead", REQUIRED), ("dim_feedforward", 2048), ("dropout", 0.1),
                 ("activation", "relu"), ("layer_norm_eps", 1e-5), ("batch_first", False), ("norm_first", False),
                 ("bias", True), ("device", None), ("dtype", None))

    def d_model(self, params):
        return as_int(params.get("d_model"))

    def check(self, params, inputs):
        x = inputs[0]
        problems = rank_problem(x, (2, 3), self.name)
        if problems or x is None:
            return problems
        expected = self.d_model(params)
        if expected is not None and isinstance(x[-1], int) and x[-1] != expected:
            return [Problem("features", {"expected": expected, "got": x[-1], "what": "d_model"})]
        return []

    def infer(self, params, inputs):
        return inputs[0]


class TransformerEncoder(TransformerEncoderLayer):
    """nn.TransformerEncoder(encoder_layer, num_layers): a stack of copies of ``encoder_layer``."""

    name = "TransformerEncoder"
    signature = (("encoder_layer", REQUIRED), ("num_layers", REQUIRED), ("norm", None),
                 ("enable_nested_tensor", True), ("mask_check", True))

    def d_model(self, params):
        layer = params.get("encoder_layer")
        op, inner = getattr(layer, "op", None), getattr(layer, "params", None)
        return op.d_model(inner) if isinstance(op, TransformerEncoderLayer) and inner is not None else None


class Identity(OpSpec):
    """Layers and functions that keep the shape (activations, dropout, identity, ...)."""

    size_monotone = True

    def __init__(self, name: str, functional: bool = False):
        self.name = name
        self.signature = (("input", REQUIRED),) if functional else ()

    def infer(self, params, inputs):
        return inputs[0]


class Unknown(OpSpec):
    """A recognised call whose output shape shapelint does not model."""

    size_monotone = True

    def __init__(self, name: str):
        self.name = name


class FunctionalConv(OpSpec):
    """F.conv{1,2,3}d(input, weight, bias, stride, padding, dilation, groups)."""

    size_monotone = True

    def __init__(self, n: int):
        self.n = n
        self.name = f"F.conv{n}d"
        self.signature = (("input", REQUIRED), ("weight", REQUIRED), ("bias", None), ("stride", 1),
                          ("padding", 0), ("dilation", 1), ("groups", 1))
        self.conv = Conv(n)

    def _conv_params(self, params, weight):
        groups = as_int(params.get("groups"))
        in_channels = weight[1] * groups if groups and isinstance(weight[1], int) else None
        return {"in_channels": in_channels, "out_channels": weight[0], "kernel_size": tuple(weight[2:]),
                "stride": params.get("stride"), "padding": params.get("padding"),
                "dilation": params.get("dilation"), "groups": params.get("groups")}

    def check(self, params, inputs):
        x, weight = inputs[0], inputs[1] if len(inputs) > 1 else None
        if weight is not None and len(weight) != self.n + 2:
            return [Problem("rank", {"got": len(weight), "accepted": (self.n + 2,), "what": f"{self.name} weight",
                                     "operand": 1})]
        if weight is None:
            return rank_problem(x, (self.n + 1, self.n + 2), self.name)
        conv_params = self._conv_params(params, weight)
        problems = [p for p in self.conv.check_params(conv_params) if p.kind != "groups"]
        groups = as_int(params.get("groups"))
        if groups and isinstance(weight[0], int) and weight[0] % groups:
            problems.append(Problem("groups", {"which": "weight.shape[0]", "count": weight[0], "groups": groups}))
        return problems + self.conv.check(conv_params, [x])

    def infer(self, params, inputs):
        weight = inputs[1] if len(inputs) > 1 else None
        if weight is None or inputs[0] is None:
            return None
        return self.conv.infer(self._conv_params(params, weight), [inputs[0]])

    def windows(self, params, inputs):
        weight = inputs[1] if len(inputs) > 1 else None
        return [] if weight is None else self.conv.windows(self._conv_params(params, weight), [inputs[0]])


class FunctionalLinear(OpSpec):
    name = "F.linear"
    signature = (("input", REQUIRED), ("weight", REQUIRED), ("bias", None))

    def requirement(self, params, inputs):
        x, weight = inputs[0], inputs[1] if len(inputs) > 1 else None
        if x and weight and isinstance(weight[-1], int):
            return "equals", x[-1], weight[-1]
        return None

    def check(self, params, inputs):
        x, weight = inputs[0], inputs[1] if len(inputs) > 1 else None
        if x is None or weight is None or len(weight) not in (1, 2) or not x:
            return []
        if isinstance(x[-1], int) and isinstance(weight[-1], int) and x[-1] != weight[-1]:
            return [Problem("features", {"expected": weight[-1], "got": x[-1], "what": "weight.shape[-1]"})]
        return []

    def infer(self, params, inputs):
        x, weight = inputs[0], inputs[1] if len(inputs) > 1 else None
        if x is None or weight is None:
            return None
        return tuple(x[:-1]) + ((weight[0],) if len(weight) == 2 else ())


class Reshape(OpSpec):
    """Tensor.view / Tensor.reshape / torch.reshape with a target shape (``-1`` inferred)."""

    def __init__(self, name: str):
        self.name = name
        self.signature = (("input", REQUIRED), ("shape", REQUIRED))

    def requirement(self, params, inputs):
        """The element count must equal the target's (or be a multiple of it with a -1)."""
        x, target = inputs[0], params.get("shape")
        if x is None or not isinstance(target, tuple) or sum(1 for d in target if d == -1) > 1:
            return None
        fixed = [d for d in target if d != -1]
        if not all(isinstance(d, (int, dims.Expr)) and not isinstance(d, bool) for d in fixed):
            return None
        return ("divisible" if -1 in target else "equals"), dims.product(x), dims.product(fixed)

    def check(self, params, inputs):
        x, target = inputs[0], params.get("shape")
        if x is None or not isinstance(target, tuple):
            return []
        total = dims.product(x)
        if not isinstance(total, int):
            return []
        if sum(1 for d in target if d == -1) > 1:
            return [Problem("features", {"expected": list(target), "got": total, "what": "reshape"})]
        fixed = [d for d in target if d != -1]
        if any(d is UNKNOWN or not isinstance(d, int) for d in fixed):
            return []
        known = 1
        for d in fixed:
            known *= d
        if -1 in target:
            bad = known == 0 or total % known != 0
        else:
            bad = known != total
        if bad:
            return [Problem("features", {"expected": list(target), "got": total, "input": list(x),
                                         "what": "reshape"})]
        return []

    def infer(self, params, inputs):
        x, target = inputs[0], params.get("shape")
        if not isinstance(target, tuple):
            return None
        out = [d if isinstance(d, int) and not isinstance(d, bool) else (d if hasattr(d, "evaluate") else None)
               for d in target]
        if -1 in out:
            # A symbolic size kept from the input (x.view(x.size(0), -1)) cancels out exactly.
            remaining = list(x) if x is not None else None
            rest = []
            for d in out:
                if d == -1:
                    continue
                if remaining is not None and isinstance(d, dims.Expr) and d in remaining:
                    remaining.remove(d)
                else:
                    rest.append(d)
            total = dims.product(remaining) if remaining is not None else None
            divisor = dims.product(rest)
            out[out.index(-1)] = dims.floordiv(total, divisor) if divisor != 0 else None
        return tuple(out)
