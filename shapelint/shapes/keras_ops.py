"""Keras layer shape functions, mirroring Keras 3's ``compute_output_shape`` methods and
``keras/src/ops/operation_utils.py`` (``compute_conv_output_shape``, ``compute_pooling_output_shape``,
``compute_reshape_output_shape``).

Shapes include the batch axis (``None`` when unknown, as in Keras).  ``data_format`` reaches
these functions already resolved by the frontend: ``"channels_last"``, ``"channels_first"``,
or ``UNKNOWN`` when the layout is chosen at run time, in which case nothing is checked and
only the rank is inferred.  Padding strings are compared case-insensitively, as Keras'
``standardize_padding`` lower-cases them.
"""

from __future__ import annotations

from shapelint.ir import Problem
from shapelint.shapes import dims, tf_ops
from shapelint.shapes.common import broadcast
from shapelint.shapes.ops import REQUIRED, ImpliedInput, OpSpec, Window, as_int, as_ints, known_ints, rank_problem

LAST, FIRST = "channels_last", "channels_first"


def _padding(params) -> str | None:
    value = params.get("padding")
    if isinstance(value, str) and value.lower() in ("same", "valid", "causal"):
        return value.lower()
    return None


def _pool_padding(params) -> str | None:
    """Pooling layers pass ``padding`` unchanged to ``compute_pooling_output_shape``, which compares
    it with 'valid' / 'same' as is: Keras 3 rejects 'SAME' there, Keras 2 lower-cased it.  Only
    the lower-case spellings have a version-independent meaning."""
    value = params.get("padding")
    return value if value in ("valid", "same") else None


def _layout(params) -> str | None:
    value = params.get("data_format")
    return value if value in (LAST, FIRST) else None


def _spatial_axes(rank: int, n: int, layout: str) -> list:
    return list(range(1, 1 + n)) if layout == LAST else list(range(2, 2 + n))


def _channel_axis(rank: int, layout: str) -> int:
    return rank - 1 if layout == LAST else 1


def _padding_problems(params, accepted) -> list:
    value = params.get("padding")
    if isinstance(value, str) and value.lower() not in accepted:
        return [Problem("padding_value", {"value": value, "accepted": accepted, "framework": "Keras"})]
    return []


def _positive(value) -> bool | None:
    return value > 0 if isinstance(value, int) else None


def _undefined(kind: str, size, axis: int, what: str) -> list:
    """A layer that creates weights from this size, which Keras sees as None while it builds the
    model (it depends on a size the input declares None): "Shapes used to initialize variables
    must be fully-defined" (Dense, RNNs, convolutions, BatchNormalization in Keras 3)."""
    if dims.from_declared_none(size):
        return [Problem(kind, {"what": "undefined", "got": size, "axis": axis, "needs": what})]
    return []


def _collapse(windows) -> list:
    """The first window whose output is zero or negative, as a collapse problem."""
    for window in windows:
        if _positive(window.output) is False:
            return [Problem("collapse", {"axis": window.axis, "size": window.size, "kernel": window.kernel,
                                         "stride": window.stride, "padding": window.padding,
                                         "output": window.output})]
    return []


class KerasOp(OpSpec):
    framework = "keras"
    # Keras-1 keyword names Keras 2+ rejects: the layer's output is unknown, not guessed.
    legacy_kwargs = ()


class Conv(KerasOp):
    """Conv1D/2D/3D, Conv2DTranspose, SeparableConv2D, DepthwiseConv2D (``keras/src/layers/convolutional``)."""

    def __init__(self, n: int, kind: str = "conv", name: str | None = None):
        self.rank = n
        self.kind = kind  # conv | transpose | separable | depthwise
        default = {"conv": f"Conv{n}D", "transpose": f"Conv{n}DTranspose", "separable": f"SeparableConv{n}D",
                   "depthwise": f"DepthwiseConv{n}D"}[kind]
        self.name = name or default
        one = 1 if n == 1 else (1,) * n
        if kind == "depthwise":
            self.signature = (("kernel_size", REQUIRED), ("strides", one), ("padding", "valid"),
                              ("depth_multiplier", 1), ("data_format", None), ("dilation_rate", one))
        elif kind == "transpose":
            self.signature = (("filters", REQUIRED), ("kernel_size", REQUIRED), ("strides", one),
                              ("padding", "valid"), ("output_padding", None), ("data_format", None),
                              ("dilation_rate", one))
        elif kind == "separable":
            self.signature = (("filters", REQUIRED), ("kernel_size", REQUIRED), ("strides", one),
                              ("padding", "valid"), ("data_format", None), ("dilation_rate", one),
                              ("depth_multiplier", 1))
        else:
            self.signature = (("filters", REQUIRED), ("kernel_size", REQUIRED), ("strides", one),
                              ("padding", "valid"), ("data_format", None), ("dilation_rate", one), ("groups", 1))

    def _geometry(self, params):
        return (as_ints(params.get("kernel_size"), self.rank), as_ints(params.get("strides"), self.rank),
                as_ints(params.get("dilation_rate"), self.rank))

    def monotone(self, params):
        # Without groups or a pinned channel count, only a collapse depends on the input size.
        return as_int(params.get("groups", 1)) == 1 and params.get("built_channels") is None

    def check_params(self, params):
        """What ``BaseConv.__init__`` rejects: a padding string (``standardize_padding``), filters
        not divisible by groups."""
        # Keras 2 also takes 'causal' for SeparableConv1D; only what every version rejects is reported.
        accepted = ("valid", "same", "causal") if self.rank == 1 and self.kind in ("conv", "separable") \
            else ("valid", "same")
        problems = _padding_problems(params, accepted)
        filters, groups = as_int(params.get("filters")), as_int(params.get("groups", 1))
        if filters is not None and groups is not None and groups > 0 and filters % groups:
            problems.append(Problem("groups", {"which": "filters", "count": filters, "groups": groups}))
        _, strides, dilation = self._geometry(params)
        # BaseConv / BaseConvTranspose (and tf.keras's Conv, which both derive from) refuse the pair.
        if self.kind in ("conv", "transpose") and known_ints(strides) and known_ints(dilation) \
                and max(strides) > 1 and max(dilation) > 1:
            problems.append(Problem("strided_dilation", {"strides": list(strides), "dilation": list(dilation)}))
        return problems

    def windows(self, params, inputs):
        x, layout, padding = inputs[0], _layout(params), _padding(params)
        if x is None or len(x) != self.rank + 2 or layout is None or padding is None or self.kind == "transpose":
            return []
        kernel, stride, dilation = self._geometry(params)
        if not all(map(known_ints, (kernel, stride, dilation))):
            return []
        found = []
        for i, axis in enumerate(_spatial_axes(len(x), self.rank, layout)):
            size, effective = x[axis], dilation[i] * (kernel[i] - 1) + 1
            if padding == "valid":
                out, pad = tf_ops.valid_output_size(size, kernel[i], stride[i], dilation[i]), 0
            else:  # same / causal: floor((in - 1) / s) + 1
                out = tf_ops.same_output_size(size, stride[i])
                if not isinstance(size, int):
                    return []
                pad = tf_ops.same_padding_total(size, kernel[i], stride[i], dilation[i])
            found.append(Window(axis, size, effective, stride[i], pad, out))
        return found

    def check(self, params, inputs):
        x = inputs[0]
        if x is None:
            return []
        if len(x) < self.rank + 2:
            # InputSpec(min_ndim=rank + 2): "expected min_ndim=4, found ndim=2"
            return [Problem("rank", {"got": len(x), "accepted": (self.rank + 2,), "what": self.name})]
        layout = _layout(params)
        if layout is None or len(x) != self.rank + 2:
            return []
        channels = x[_channel_axis(len(x), layout)]
        undefined = _undefined("channels", channels, _channel_axis(len(x), layout), "channel count")
        if undefined:
            return undefined
        built = params.get("built_channels")
        if isinstance(built, int) and isinstance(channels, int) and built != channels:
            # a layer called before pinned its kernel's input channels (InputSpec axes)
            return [Problem("channels", {"expected": built, "got": channels, "axis": _channel_axis(len(x), layout)})]
        groups = as_int(params.get("groups", 1))
        if groups and groups > 1 and isinstance(channels, int) and channels % groups:
            return [Problem("groups", {"which": "input channels", "count": channels, "groups": groups})]
        # compute_conv_output_shape: "Computed output size would be zero or negative"
        return _collapse(self.windows(params, inputs))

    def infer(self, params, inputs):
        x, layout = inputs[0], _layout(params)
        if x is None:
            return None
        if len(x) != self.rank + 2:
            return None
        if layout is None:
            return (x[0],) + (None,) * (self.rank + 1)
        axes = _spatial_axes(len(x), self.rank, layout)
        channels = x[_channel_axis(len(x), layout)]
        if self.kind == "depthwise":
            multiplier = as_int(params.get("depth_multiplier"))
            out_channels = dims.mul(channels, multiplier) if multiplier is not None else None
        else:
            out_channels = as_int(params.get("filters"))
        sizes = self._output_sizes(params, x, axes)
        if layout == LAST:
            return (x[0],) + tuple(sizes) + (out_channels,)
        return (x[0], out_channels) + tuple(sizes)

    def _output_sizes(self, params, x, axes):
        padding = _padding(params)
        kernel, stride, dilation = self._geometry(params)
        if padding is None or not all(map(known_ints, (kernel, stride, dilation))):
            return [None] * self.rank
        if self.kind == "transpose":
            output_padding = params.get("output_padding")
            if output_padding is None:
                extra = [None] * self.rank
            else:
                extra = as_ints(output_padding, self.rank)
                if not known_ints(extra):
                    return [None] * self.rank
            return [tf_ops.conv_transpose_output_size(x[axis], kernel[i], stride[i], padding, dilation[i], extra[i])
                    for i, axis in enumerate(axes)]
        if padding == "valid":
            return [tf_ops.valid_output_size(x[axis], kernel[i], stride[i], dilation[i]) for i, axis in enumerate(axes)]
        return [tf_ops.same_output_size(x[axis], stride[i]) for i, axis in enumerate(axes)]

    def implied_input(self, params, inputs):
        layout = params.get("data_format")
        return ImpliedInput(self.rank, None, layout == LAST) if layout in (LAST, FIRST) else None


class Pool(KerasOp):
    """MaxPooling1D/2D/3D, AveragePooling1D/2D/3D: ``strides`` defaults to ``pool_size``."""

    downsamples = True
    size_monotone = True  # only a collapse depends on the input size

    def __init__(self, n: int, kind: str, name: str | None = None):
        self.rank = n
        self.name = name or f"{'Max' if kind == 'max' else 'Average'}Pooling{n}D"
        # Keras 3 requires pool_size for the average pools (Keras 2 defaulted it to 2): unknown there.
        default = (2 if n == 1 else (2,) * n) if kind == "max" else REQUIRED
        self.signature = (("pool_size", default), ("strides", None), ("padding", "valid"), ("data_format", None))

    def check_params(self, params):
        return _padding_problems(params, ("valid", "same", "causal") if self.rank == 1 else ("valid", "same"))

    def _geometry(self, params):
        pool = as_ints(params.get("pool_size"), self.rank)
        strides = params.get("strides")
        stride = pool if strides is None else as_ints(strides, self.rank)
        return pool, stride

    def windows(self, params, inputs):
        x, layout, padding = inputs[0], _layout(params), _pool_padding(params)
        if x is None or len(x) != self.rank + 2 or layout is None or padding not in ("same", "valid"):
            return []
        pool, stride = self._geometry(params)
        if not known_ints(pool) or not known_ints(stride):
            return []
        found = []
        for i, axis in enumerate(_spatial_axes(len(x), self.rank, layout)):
            size = x[axis]
            if padding == "valid":
                out, pad = tf_ops.valid_output_size(size, pool[i], stride[i]), 0
            else:
                if not isinstance(size, int):
                    return []
                out, pad = tf_ops.same_output_size(size, stride[i]), tf_ops.same_padding_total(size, pool[i], stride[i])
            found.append(Window(axis, size, pool[i], stride[i], pad, out))
        return found

    def check(self, params, inputs):
        x = inputs[0]
        problems = rank_problem(x, (self.rank + 2,), self.name)  # InputSpec(ndim=pool_dimensions + 2)
        if problems or x is None:
            return problems
        return _collapse(self.windows(params, inputs))

    def infer(self, params, inputs):
        x, layout, padding = inputs[0], _layout(params), _pool_padding(params)
        if x is None or len(x) != self.rank + 2:
            return None
        if layout is None:
            return (x[0],) + (None,) * (self.rank + 1)
        pool, stride = self._geometry(params)
        out = list(x)
        for i, axis in enumerate(_spatial_axes(len(x), self.rank, layout)):
            if padding not in ("same", "valid") or not known_ints(pool) or not known_ints(stride):
                out[axis] = None
            elif padding == "valid":
                out[axis] = tf_ops.valid_output_size(x[axis], pool[i], stride[i])
            else:
                out[axis] = tf_ops.same_output_size(x[axis], stride[i])
        return tuple(out)

    def implied_input(self, params, inputs):
        layout = params.get("data_format")
        return ImpliedInput(self.rank, None, layout == LAST) if layout in (LAST, FIRST) else None


class GlobalPool(KerasOp):
    size_monotone = True  # checks the rank only

    def checks_sizes(self, params):
        return False

    def __init__(self, n: int, kind: str, name: str | None = None):
        self.rank = n
        self.name = name or f"Global{'Max' if kind == 'max' else 'Average'}Pooling{n}D"
        self.signature = (("data_format", None), ("keepdims", False))

    def check(self, params, inputs):
        return rank_problem(inputs[0], (self.rank + 2,), self.name)

    def infer(self, params, inputs):
        x, layout, keep = inputs[0], _layout(params), params.get("keepdims")
        if x is None or len(x) != self.rank + 2:
            return None
        if layout is None or not isinstance(keep, bool):
            return None
        channels = x[_channel_axis(len(x), layout)]
        if not keep:
            return (x[0], channels)
        return (x[0],) + (1,) * self.rank + (channels,) if layout == LAST else (x[0], channels) + (1,) * self.rank


class Dense(KerasOp):
    """Dense acts on the last axis; a built layer pins it (InputSpec(axes={-1: input_dim}))."""

    name = "Dense"
    signature = (("units", REQUIRED),)

    def checks_sizes(self, params):
        return params.get("built_features") is not None

    def check(self, params, inputs):
        x = inputs[0]
        if x is None:
            return []
        if len(x) < 2:
            return [Problem("rank", {"got": len(x), "accepted": (2, 3, 4, 5), "what": self.name})]
        undefined = _undefined("features", x[-1], len(x) - 1, "input feature count")
        if undefined:
            return undefined
        built = params.get("built_features")
        if isinstance(built, int) and isinstance(x[-1], int) and x[-1] != built:
            return [Problem("features", {"expected": built, "got": x[-1], "what": "input features"})]
        return []

    def infer(self, params, inputs):
        x = inputs[0]
        return None if x is None else tuple(x[:-1]) + (as_int(params.get("units")),)


class Flatten(KerasOp):
    name = "Flatten"
    signature = (("data_format", None),)

    def infer(self, params, inputs):
        x = inputs[0]
        if x is None:
            return None
        rest = x[1:]
        if not rest:
            return (x[0], 1)
        total = dims.product(rest)
        return (x[0], total if isinstance(total, int) else None if any(d is None for d in rest) else total)


class Reshape(KerasOp):
    """compute_reshape_output_shape over the non-batch axes: the element count must be unchanged."""

    name = "Reshape"
    signature = (("target_shape", REQUIRED),)

    def _target(self, params):
        target = params.get("target_shape")
        if isinstance(target, int) and not isinstance(target, bool):
            target = (target,)
        if not isinstance(target, (tuple, list)):
            return None
        return tuple(d if isinstance(d, int) and not isinstance(d, bool) else None for d in target)

    def requirement(self, params, inputs):
        """The element count of one example against the target's known sizes."""
        x, target = inputs[0], self._target(params)
        if x is None or len(x) < 2 or target is None or None in target or target.count(-1) > 1:
            return None
        rest = x[1:]
        if any(d is None for d in rest):
            return None
        known = 1
        for d in target:
            if d != -1:
                known *= d
        if known <= 0:
            return None
        return ("divisible" if -1 in target else "equals"), dims.product(rest), known

    def check(self, params, inputs):
        x, target = inputs[0], self._target(params)
        if x is None or target is None or None in target or target.count(-1) > 1:
            return []
        rest = x[1:]
        if not all(isinstance(d, int) for d in rest):
            return []
        total = 1
        for d in rest:
            total *= d
        known = 1
        for d in target:
            if d != -1:
                known *= d
        bad = (known == 0 or total % known != 0) if -1 in target else known != total
        if bad:
            return [Problem("features", {"expected": list(target), "got": total, "input": list(x),
                                         "what": "reshape"})]
        return []

    def infer(self, params, inputs):
        x, target = inputs[0], self._target(params)
        if x is None or target is None:
            return None
        out = list(target)
        if -1 in out:
            rest = x[1:]
            if all(d is not None for d in rest) and None not in out and out.count(-1) == 1:
                known = 1
                for d in out:
                    if d != -1:
                        known *= d
                # Exact where the reshape runs (the count is a multiple of ``known``); with a size
                # declared None, Keras has None here too.
                out[out.index(-1)] = dims.floordiv(dims.product(rest), known) if known else None
            else:
                out[out.index(-1)] = None
        return (x[0],) + tuple(out)


class Identity(KerasOp):
    """Layers that keep the shape (activations, dropout, normalization, rescaling, ...)."""

    def __init__(self, name: str):
        self.name = name
        self.signature = None

    def infer(self, params, inputs):
        return inputs[0]


class BatchNormalization(Identity):
    """Keeps the shape; a built layer pins the size of its axis (InputSpec(axes={axis: size}))."""

    def __init__(self, name: str = "BatchNormalization"):
        super().__init__(name)
        self.signature = (("axis", -1),)

    def check(self, params, inputs):
        x, axis, built = inputs[0], params.get("axis"), params.get("built_channels")
        if x is None or not isinstance(axis, int) or isinstance(axis, bool) or not -len(x) <= axis < len(x):
            return []
        got = x[axis]
        undefined = _undefined("channels", got, axis % len(x), "size of the normalized axis")
        if undefined:
            return undefined
        if isinstance(built, int) and isinstance(got, int) and got != built:
            return [Problem("channels", {"expected": built, "got": got, "axis": axis % len(x)})]
        return []


class Padding2D(KerasOp):
    """ZeroPadding2D (grow) and Cropping2D (shrink); ``cropping`` >= the size raises."""

    size_monotone = True  # only cropping away a whole axis depends on the size

    def __init__(self, crop: bool):
        self.crop = crop
        self.rank = 2
        self.name = "Cropping2D" if crop else "ZeroPadding2D"
        self.signature = ((("cropping", ((0, 0), (0, 0))) if crop else ("padding", (1, 1))), ("data_format", None))

    def _amounts(self, params):
        value = params.get("cropping" if self.crop else "padding")
        if isinstance(value, int) and not isinstance(value, bool):
            return ((value, value), (value, value))
        if isinstance(value, (tuple, list)) and len(value) == 2:
            pairs = []
            for item in value:
                if isinstance(item, int) and not isinstance(item, bool):
                    pairs.append((item, item))
                elif isinstance(item, (tuple, list)) and len(item) == 2 and known_ints(item):
                    pairs.append(tuple(item))
                else:
                    return None
            return tuple(pairs)
        return None

    def check(self, params, inputs):
        x = inputs[0]
        problems = rank_problem(x, (4,), self.name)
        if problems or x is None or not self.crop:
            return problems
        amounts, layout = self._amounts(params), _layout(params)
        if amounts is None or layout is None:
            return []
        for (before, after), axis in zip(amounts, _spatial_axes(4, 2, layout)):
            if isinstance(x[axis], int) and before + after >= x[axis]:
                return [Problem("collapse", {"axis": axis, "size": x[axis], "output": x[axis] - before - after})]
        return []

    def infer(self, params, inputs):
        x = inputs[0]
        if x is None or len(x) != 4:
            return None
        amounts, layout = self._amounts(params), _layout(params)
        if layout is None:
            return (x[0],) + (None,) * 3
        out = list(x)
        for i, axis in enumerate(_spatial_axes(4, 2, layout)):
            if amounts is None:
                out[axis] = None
            else:
                delta = sum(amounts[i])
                out[axis] = dims.sub(x[axis], delta) if self.crop else dims.add(x[axis], delta)
        return tuple(out)


class UpSampling2D(KerasOp):
    size_monotone = True  # checks the rank only
    name = "UpSampling2D"

    def checks_sizes(self, params):
        return False
    signature = (("size", (2, 2)), ("data_format", None), ("interpolation", "nearest"))

    def check(self, params, inputs):
        return rank_problem(inputs[0], (4,), self.name)

    def infer(self, params, inputs):
        x, layout = inputs[0], _layout(params)
        if x is None or len(x) != 4:
            return None
        if layout is None:
            return (x[0],) + (None,) * 3
        size = as_ints(params.get("size"), 2)
        out = list(x)
        for i, axis in enumerate(_spatial_axes(4, 2, layout)):
            out[axis] = dims.mul(x[axis], size[i]) if size is not None and size[i] is not None else None
        return tuple(out)


class Merge(KerasOp):
    """Add / Subtract / Multiply / Average / Maximum / Minimum layers and the ``keras.ops`` / operator
    forms (``ops.add``, ``x + y``).

    The layers (``Merge._compute_elemwise_op_output_shape``) compare batch sizes on their own and
    broadcast the remaining axes right-aligned, expanding a lower-rank input after its batch axis;
    the ops broadcast whole shapes as NumPy does."""

    merges = True

    def __init__(self, name: str, layer: bool = True):
        self.name = name
        self.layer = layer
        self.signature = None

    def _broadcast(self, inputs):
        if not self.layer:
            return broadcast(list(inputs))
        batches = {s[0] for s in inputs if s and isinstance(s[0], int)}
        if len(batches) > 1:
            a, b = sorted(batches)[:2]
            return None, (0, a, b)
        rest, conflict = broadcast([tuple(s[1:]) for s in inputs])
        if conflict:
            axis, a, b = conflict
            return None, (axis + 1, a, b)
        batch = batches.pop() if batches else None
        return (None if rest is None else (batch,) + tuple(rest)), None

    def check(self, params, inputs):
        if len(inputs) < 2 or any(s is None or len(s) == 0 for s in inputs):
            return []
        _, conflict = self._broadcast(inputs)
        if conflict:
            axis, a, b = conflict
            return [Problem("merge", {"op": self.name, "shapes": list(inputs), "axis": axis, "a": a, "b": b})]
        return []

    def infer(self, params, inputs):
        if not inputs or any(s is None or len(s) == 0 for s in inputs):
            return None
        if len(inputs) == 1:
            return inputs[0]
        return self._broadcast(inputs)[0]


class Concatenate(KerasOp):
    """Same rank, equal sizes everywhere except ``axis`` (default -1)."""

    signature = (("axis", -1),)
    merges = True

    def __init__(self, name: str = "Concatenate"):
        self.name = name

    def check(self, params, inputs):
        if len(inputs) < 2 or any(s is None for s in inputs):
            return []
        ranks = {len(s) for s in inputs}
        axis = params.get("axis")
        if len(ranks) > 1 or not isinstance(axis, int) or isinstance(axis, bool):
            return []
        rank = ranks.pop()
        if not -rank <= axis < rank:
            return []
        axis %= rank
        for i in range(1, rank):
            if i == axis:
                continue
            known = {s[i] for s in inputs if isinstance(s[i], int)}
            if len(known) > 1:
                a, b = sorted(known)[:2]
                return [Problem("merge", {"op": self.name, "shapes": list(inputs), "axis": i, "a": a, "b": b})]
        return []

    def infer(self, params, inputs):
        if not inputs or any(s is None for s in inputs):
            return None
        rank, axis = len(inputs[0]), params.get("axis")
        if any(len(s) != rank for s in inputs) or not isinstance(axis, int) or not -rank <= axis < rank:
            return None
        axis %= rank
        out = []
        for i in range(rank):
            column = [s[i] for s in inputs]
            if i == axis:
                total = 0
                for d in column:
                    total = dims.add(total, d)
                out.append(total)
            else:
                known = [d for d in column if isinstance(d, int)]
                # Unequal symbolic sizes must agree wherever the concat runs: either one will do.
                out.append(known[0] if known else (column[0] if all(d is not None for d in column) else None))
        return tuple(out)


class Embedding(KerasOp):
    """Integer indices of any shape -> that shape + (output_dim,)."""

    name = "Embedding"
    signature = (("input_dim", REQUIRED), ("output_dim", REQUIRED))

    def infer(self, params, inputs):
        x = inputs[0]
        return None if x is None else tuple(x) + (as_int(params.get("output_dim")),)


class Recurrent(KerasOp):
    """LSTM / GRU / SimpleRNN over (batch, time, features) (``RNN.compute_output_shape``)."""

    size_monotone = True  # checks no size

    def __init__(self, name: str):
        self.name = name
        self.signature = (("units", REQUIRED),)

    def checks_sizes(self, params):
        return False

    def check(self, params, inputs):
        x = inputs[0]
        if x is None or len(x) != 3:
            return []
        return _undefined("features", x[-1], 2, "input feature count")

    def infer(self, params, inputs):
        x, sequences, state = inputs[0], params.get("return_sequences"), params.get("return_state")
        if x is None or len(x) != 3 or state is not False or not isinstance(sequences, bool):
            return None
        units = as_int(params.get("units"))
        return (x[0], x[1], units) if sequences else (x[0], units)


class Permute(KerasOp):
    """Permute(dims): a permutation of the non-batch axes, 1-based."""

    name = "Permute"
    signature = (("dims", REQUIRED),)

    def infer(self, params, inputs):
        x, order = inputs[0], params.get("dims")
        if x is None or not isinstance(order, (tuple, list)) or sorted(order) != list(range(1, len(x))):
            return None
        return (x[0],) + tuple(x[d] for d in order)


class RepeatVector(KerasOp):
    name = "RepeatVector"
    signature = (("n", REQUIRED),)

    def check(self, params, inputs):
        return rank_problem(inputs[0], (2,), self.name)  # InputSpec(ndim=2)

    def infer(self, params, inputs):
        x = inputs[0]
        if x is None or len(x) != 2:
            return None
        return (x[0], as_int(params.get("n")), x[1])


class Resize(KerasOp):
    """Resizing / CenterCrop / RandomCrop(height, width): a batch of images to height x width."""

    def __init__(self, name: str):
        self.name = name
        self.signature = (("height", REQUIRED), ("width", REQUIRED))

    def infer(self, params, inputs):
        x, layout = inputs[0], _layout(params)
        if x is None or len(x) != 4 or layout is None:
            return None
        height, width = as_int(params.get("height")), as_int(params.get("width"))
        return (x[0], height, width, x[3]) if layout == LAST else (x[0], x[1], height, width)


class Bidirectional(KerasOp):
    """Bidirectional(rnn, merge_mode): the wrapped layer's output, its last axis doubled by 'concat'."""

    name = "Bidirectional"
    signature = None

    def check(self, params, inputs):
        inner = params.get("inner_op")
        return [] if inner is None else inner.check(params.get("inner_params"), inputs)

    def infer(self, params, inputs):
        inner, inner_params, mode = params.get("inner_op"), params.get("inner_params"), params.get("merge_mode")
        if inner is None:
            return None
        out = inner.infer(inner_params, inputs)
        if out is None or mode not in ("concat", "sum", "mul", "ave"):
            return None
        return tuple(out[:-1]) + (dims.mul(out[-1], 2),) if mode == "concat" else out


class TimeDistributed(KerasOp):
    """TimeDistributed(layer): the layer applied to every step of axis 1."""

    name = "TimeDistributed"
    signature = None

    def check(self, params, inputs):
        x, inner = inputs[0], params.get("inner_op")
        if x is None or inner is None:
            return []
        if len(x) < 3:
            return [Problem("rank", {"got": len(x), "accepted": (3, 4, 5, 6), "what": self.name})]
        return inner.check(params.get("inner_params"), [(x[0],) + tuple(x[2:])])

    def infer(self, params, inputs):
        x, inner = inputs[0], params.get("inner_op")
        if x is None or inner is None or len(x) < 3:
            return None
        out = inner.infer(params.get("inner_params"), [(x[0],) + tuple(x[2:])])
        return None if out is None else (x[0], x[1]) + tuple(out[1:])


class Unknown(KerasOp):
    """A recognised Keras layer whose output shape is not modelled."""

    def __init__(self, name: str):
        self.name = name
        self.signature = None

    def infer(self, params, inputs):
        return None


class ModelCall(KerasOp):
    """A functional ``keras.Model`` called on a tensor: its input spec (the ``Input`` shape with the
    batch left free, ``Functional.input_spec``) must admit every known dim; a rank that differs
    (Keras squeezes or expands a trailing 1) is not judged.  The output is the model's output."""

    signature = ()

    def __init__(self, name: str = "Model"):
        self.name = name

    def check(self, params, inputs):
        spec, x = params.get("spec"), inputs[0]
        if spec is None or x is None or len(spec) != len(x):
            return []
        for axis in range(1, len(x)):
            want, got = spec[axis], x[axis]
            if isinstance(want, int) and isinstance(got, int) and want != got:
                return [Problem("model_input", {"expected": list(spec), "got": list(x), "axis": axis,
                                                "model": self.name})]
        return []

    def infer(self, params, inputs):
        return params.get("output")


__all__ = ["Conv", "Pool", "GlobalPool", "Dense", "Flatten", "Reshape", "Identity", "BatchNormalization",
           "Padding2D", "UpSampling2D", "Merge", "Concatenate", "Embedding", "Recurrent", "Permute", "RepeatVector",
           "Bidirectional", "TimeDistributed", "Resize", "ModelCall", "Unknown", "LAST", "FIRST"]

