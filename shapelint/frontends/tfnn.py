"""Raw TensorFlow frontend: graphs built by hand with ``tf.nn`` ops, TF1 and TF2 spellings.

Tensors come from ``tf.placeholder`` (``None`` batch), ``tf.zeros / ones / fill / random.* /
truncated_normal``, ``tf.constant``, ``tf.Variable(<initial value>)`` and ``tf.get_variable``;
weights kept in dicts work because the interpreter keeps dict values.  Every ``tf.nn`` op call
is recorded as a node where it runs.

Models: module-level code is the model ``<module>``; a module-level call of a function on a
tensor (``logits = LeNet(x)``) is a model named after the function, analysed with that binding;
a function the file never calls is analysed on a symbolic input whose depth is the first
filter's in-depth.
"""

from __future__ import annotations


import libcst as cst

from shapelint.frontends.base import FrameworkHooks, declared_none_names, input_comment
from shapelint.frontends.interp import BudgetExceeded, ExternalCall, Function, Instance, Interpreter, ModuleRef
from shapelint.ir import UNKNOWN, Model, Node, Tensor
from shapelint.shapes import dims
from shapelint.shapes import tfnn_ops as ops
from shapelint.shapes.common import Concat, Elementwise

FRAMEWORK = "tf"

_ALIASES = (
    ("tensorflow.compat.v1.", "tensorflow."),
    ("tensorflow.compat.v2.", "tensorflow."),
    ("tensorflow.python.ops.nn_ops.", "tensorflow.nn."),
    ("tensorflow.python.ops.nn.", "tensorflow.nn."),
    ("tensorflow.math.", "tensorflow."),
    ("tensorflow.linalg.matmul", "tensorflow.matmul"),
    ("tensorflow.compat.v1.layers.", "tensorflow.layers."),
    ("tensorflow.keras.layers.Flatten", "keras.layers.Flatten"),
    ("tensorflow.python.keras.layers.", "keras.layers."),
    ("tf_keras.layers.", "keras.layers."),
)


def canonical(qualname: str) -> str:
    """One spelling per function: ``tensorflow.compat.v1.nn.conv2d`` -> ``tensorflow.nn.conv2d``."""
    changed = True
    while changed:
        changed = False
        for prefix, replacement in _ALIASES:
            if qualname.startswith(prefix):
                qualname = replacement + qualname[len(prefix):]
                changed = True
    if qualname == "tensorflow.compat.v1" or qualname == "tensorflow.compat.v2":
        return "tensorflow"
    return qualname


# Parameter names by position, TF2 first; keyword spellings of both versions are accepted.
CONV2D_V2 = ("input", "filters", "strides", "padding", "data_format", "dilations", "name")
CONV2D_V1 = ("input", "filter", "strides", "padding", "use_cudnn_on_gpu", "data_format", "dilations", "name",
             "filters")
POOL = ("input", "ksize", "strides", "padding", "data_format", "name")
DEPTHWISE_V2 = ("input", "filter", "strides", "padding", "data_format", "dilations", "name")
DEPTHWISE_V1 = ("input", "filter", "strides", "padding", "rate", "name", "data_format", "dilations")
SEPARABLE_V2 = ("input", "depthwise_filter", "pointwise_filter", "strides", "padding", "data_format", "dilations",
                "name")
SEPARABLE_V1 = ("input", "depthwise_filter", "pointwise_filter", "strides", "padding", "rate", "name",
                "data_format", "dilations")
CONV2D_TRANSPOSE = ("input", "filters", "output_shape", "strides", "padding", "data_format", "dilations", "name")
KEYWORD_ALIASES = {"value": "input", "filter": "filters", "x": "input", "features": "input", "logits": "input",
                   "tensor": "input", "inputs": "input", "images": "input"}

POOLS = {
    "tensorflow.nn.max_pool": ops.Pool("tf.nn.max_pool", "max"),
    "tensorflow.nn.max_pool2d": ops.Pool("tf.nn.max_pool2d", "max"),
    "tensorflow.nn.avg_pool": ops.Pool("tf.nn.avg_pool", "avg"),
    "tensorflow.nn.avg_pool2d": ops.Pool("tf.nn.avg_pool2d", "avg"),
}
CONV2D = ops.Conv2D("tf.nn.conv2d")
DEPTHWISE = ops.Conv2D("tf.nn.depthwise_conv2d", depthwise=True)
ATROUS = ops.Conv2D("tf.nn.atrous_conv2d")
SEPARABLE = ops.SeparableConv2D()
CONV2D_T = ops.Conv2DTranspose()
BIAS_ADD = ops.BiasAdd()
MATMUL = ops.MatMul()
RESHAPE = ops.Reshape()
FLATTENS = {
    "tensorflow.layers.flatten": ops.Flatten("tf.layers.flatten"),
    "tensorflow.contrib.layers.flatten": ops.Flatten("tf.contrib.layers.flatten"),
    "tensorflow.contrib.slim.flatten": ops.Flatten("slim.flatten"),
}
KERAS_FLATTEN = ops.Flatten("tf.keras.layers.Flatten")
# tf.image resizing: (op, positional parameter names); the output takes ``size`` as its height and width
RESIZES = {f"tensorflow.image.{name}": (ops.ImageResize(f"tf.image.{name}"), params) for name, params in (
    ("resize", ("input", "size", "method", "preserve_aspect_ratio", "antialias", "name")),
    ("resize_images", ("input", "size", "method", "align_corners", "preserve_aspect_ratio", "name")),
    ("resize_bilinear", ("input", "size", "align_corners", "name", "half_pixel_centers")),
    ("resize_nearest_neighbor", ("input", "size", "align_corners", "name", "half_pixel_centers")),
    ("resize_bicubic", ("input", "size", "align_corners", "name", "half_pixel_centers")),
)}
CONCAT = Concat("tf.concat")

IDENTITY_NAMES = (
    "nn.relu nn.relu6 nn.elu nn.selu nn.gelu nn.silu nn.swish nn.leaky_relu nn.sigmoid nn.tanh nn.softmax "
    "nn.log_softmax nn.softplus nn.softsign nn.dropout nn.lrn nn.local_response_normalization nn.l2_normalize "
    "nn.batch_normalization relu sigmoid tanh identity cast stop_gradient abs square sqrt "
    "exp log negative clip_by_value to_float layers.dropout nn.experimental.stateless_dropout"
).split()
IDENTITY = {f"tensorflow.{n}": ops.Identity(f"tf.{n}") for n in IDENTITY_NAMES}
ELEMENTWISE = {f"tensorflow.{n}": Elementwise(f"tf.{n}") for n in
               ("add", "subtract", "multiply", "divide", "maximum", "minimum", "truediv", "mul", "sub", "div")}
BINARY_OPS = {cst.Add: "add", cst.Subtract: "sub", cst.Multiply: "mul", cst.Divide: "div"}
BINARY_SPECS = {name: Elementwise(name) for name in BINARY_OPS.values()}
MATMUL_OPERATOR = ops.MatMul("matmul (@)")

CREATORS = {"zeros", "ones", "random.normal", "random_normal", "random.uniform", "random_uniform",
            "truncated_normal", "random.truncated_normal", "random.stateless_normal", "empty"}
LIKE = {"zeros_like", "ones_like"}


class Initializer:
    """An initializer object (``tf.truncated_normal_initializer(stddev=0.1)``): call(shape) -> tensor."""


class KerasFlatten:
    """``tf.keras.layers.Flatten()``: calling it on a raw tf tensor flattens all but the batch."""


class ShapeValue:
    """``x.get_shape()`` / ``x.shape``: indexable, ``as_list()``, ``ndims``, ``num_elements()``."""

    def __init__(self, shape: tuple):
        self.shape = shape


def _dim_value(d):
    """A dim as the program sees it: a known int or a symbol; anything unknown stays UNKNOWN.

    A size declared None (``tf.placeholder(tf.float32, [None, None, None, 3])``) is None in the
    graph's static shapes, and so is anything computed from it: unknown to the program."""
    if isinstance(d, int) or (isinstance(d, dims.Expr) and not dims.from_declared_none(d)):
        return d
    return UNKNOWN


def _bind(names: tuple, args: list, kwargs: dict) -> dict:
    params = {}
    for name, value in zip(names, args):
        params[KEYWORD_ALIASES.get(name, name)] = value
    for key, value in kwargs.items():
        key = KEYWORD_ALIASES.get(key, key)
        params.setdefault(key, value)
    return params


class TfInterpreter(Interpreter):
    """The shared interpreter, told which functions run and where a model-level call starts."""

    def call_function(self, func: Function, args, kwargs, node):
        hooks = self.hooks
        hooks.called.add(id(func.node))
        if func.owner is None and hooks.starts_model(args, kwargs):
            parent = super()
            return hooks.run_function_model(func, args, kwargs, node,
                                            lambda a, k: parent.call_function(func, a, k, node))
        return super().call_function(func, args, kwargs, node)


class TfNNFrontend(FrameworkHooks):
    framework = FRAMEWORK
    interpreter_class = TfInterpreter

    def __init__(self, module: cst.Module, inputs: dict | None = None):
        self.called: set = set()
        self.modelled: set = set()  # (function or class node, argument shapes) already made a model
        self.declared_count = 0
        super().__init__(module, inputs)

    # ----- models -------------------------------------------------------------------------------

    def run(self) -> list[Model]:
        script = Model("<module>", FRAMEWORK, self.module, input_source="script")
        self.current = script
        try:
            self.interp.run_module()
        except BudgetExceeded:
            pass
        self.current = None
        for stmt in self.module.body:
            if isinstance(stmt, cst.FunctionDef) and id(stmt) not in self.called:
                func = self.interp.globals.get(stmt.name.value)
                if isinstance(func, Function) and func.node is stmt:
                    self.analyse_uncalled(func)
        if script.nodes:
            script.input = _first_input(script)
            self.models.insert(0, script)
        return [m for m in self.models if m.nodes]

    def declared_function_input(self, func) -> tuple:
        """(shape, source) from the configuration or a ``# shapelint: input=(None, 32, 32, 1)`` comment."""
        declared = self.inputs.get(func.name, self.inputs.get("*"))
        if declared is not None:
            return tuple(None if d is None or d == -1 else d for d in declared), "configuration"
        shape = input_comment(func.node, allow_unknown=True)
        return (shape, "comment") if shape is not None else (None, None)

    def starts_model(self, args, kwargs) -> bool:
        """A module-level call on a tensor: the callee is a model analysed with that binding."""
        return not self.interp.call_stack and self.current is not None and self.current.name == "<module>" \
            and not self.interp.speculative and isinstance(args, list) and isinstance(kwargs, dict) \
            and any(isinstance(a, Tensor) for a in list(args) + list(kwargs.values()))

    def run_function_model(self, func, args, kwargs, node, call):
        """Run ``call(args, kwargs)`` recording into a model named after ``func`` (a function or class)."""
        tensor = next((a for a in list(args) + list(kwargs.values()) if isinstance(a, Tensor)), None)
        declared, source = self.declared_function_input(func)
        source = source or "call in file"
        if declared is not None and isinstance(args, list) and args and args[0] is tensor:
            tensor = Tensor(declared, framework=FRAMEWORK)
            args = [tensor] + list(args[1:])
        model = Model(func.name, FRAMEWORK, func.node, input=tensor.shape, input_source=source)
        # A training loop calling the model again on the same shapes adds nothing: run it unrecorded.
        key = (id(func.node), tuple(a.shape if isinstance(a, Tensor) else None for a in args))
        if key not in self.modelled:
            self.modelled.add(key)
            self.models.append(model)
        return self.run_model(model, lambda: call(args, kwargs))

    def analyse_uncalled(self, func: Function):
        params = func.node.params
        positional = list(params.posonly_params) + list(params.params)
        self.interp.steps = 0  # each analysis gets the whole step budget
        if not positional:
            # ``def main():`` started by ``tf.app.run()``: the graph it builds is fully literal.
            model = Model(func.name, FRAMEWORK, func.node, input_source="script")
            self.run_model(model, lambda: self.interp.call_function(func, [], {}, func.node))
            model.input = _first_input(model)
            self.models.append(model)
            return
        shape, source = self.declared_function_input(func)
        if shape is None:
            shape = self.discover_input(func.name, func.node,
                                        lambda probe: self.interp.call_function(func, [probe], {}, func.node))
            source = "symbolic"
            self.interp.steps = 0
        model = Model(func.name, FRAMEWORK, func.node, input=shape, input_source=source)
        tensor = Tensor(shape, framework=FRAMEWORK)
        self.run_model(model, lambda: self.interp.call_function(func, [tensor], {}, func.node))
        self.models.append(model)

    # ----- graph recording ------------------------------------------------------------------------

    # ----- calls ----------------------------------------------------------------------------------

    def call(self, func, args, kwargs, node):
        if args is UNKNOWN or kwargs is UNKNOWN:
            return UNKNOWN
        if isinstance(func, ModuleRef):
            return self.call_qualified(canonical(func.qualname), func.qualname, args, kwargs, node)
        if isinstance(func, Initializer):
            shape = _plain_shape(args[0] if args else kwargs.get("shape"))
            return Tensor(ops.as_shape(shape), framework=FRAMEWORK)
        if isinstance(func, Instance):
            # A tf.Module (or any object) with a user ``__call__``: ``model(x)``.
            method = func.cls.lookup("__call__")
            if not isinstance(method, Function):
                return UNKNOWN
            run = lambda a, k: self.interp.call_function(method, [func] + list(a), k, node)  # noqa: E731
            if self.starts_model(args, kwargs):
                return self.run_function_model(func.cls, args, kwargs, node, run)
            return run(args, kwargs)
        if isinstance(func, KerasFlatten):
            if len(args) == 1 and isinstance(args[0], Tensor) and args[0].framework == FRAMEWORK:
                return self.apply(KERAS_FLATTEN, {}, [args[0]], node)
            return UNKNOWN
        return UNKNOWN

    def call_qualified(self, qual: str, written: str, args, kwargs, node):
        if qual.startswith(("keras.", "tensorflow.keras.")):
            if qual == "keras.layers.Flatten":
                return KerasFlatten()
            if qual in ("tensorflow.keras.Input", "tensorflow.keras.layers.Input", "keras.Input",
                        "keras.layers.Input"):
                # A Keras input fed to raw tf ops; Keras layers on it are the Keras frontend's.
                shape = ops.as_shape(args[0] if args else kwargs.get("shape"))
                batch = kwargs.get("batch_size")
                batch = batch if isinstance(batch, int) and not isinstance(batch, bool) else None
                return Tensor(None if shape is None else (batch,) + shape, framework="keras")
            if qual.startswith(("keras.initializers.", "tensorflow.keras.initializers.")):
                return Initializer()
            return UNKNOWN
        if not qual.startswith("tensorflow."):
            if qual in ("numpy.prod", "numpy.product") and args:
                return _product(self.interp.iterate(args[0]) if not isinstance(args[0], ShapeValue)
                                else [_dim_value(d) for d in args[0].shape])
            return UNKNOWN
        name = qual[len("tensorflow."):]
        if name in ("nn.conv2d", "nn.convolution2d"):
            v1 = "compat.v1" in written or (len(args) > 4 and isinstance(args[4], bool))
            if len(args) > 4 and not v1 and not isinstance(args[4], str):
                return Tensor(None, framework=FRAMEWORK)
            return self.run_op(CONV2D, _bind(CONV2D_V1 if v1 else CONV2D_V2, args, kwargs), ("input", "filters"), node)
        if name == "nn.depthwise_conv2d":
            v1 = len(args) > 4 and isinstance(args[4], (list, tuple))
            params = _bind(DEPTHWISE_V1 if v1 else DEPTHWISE_V2, args, kwargs)
            if params.get("dilations") is None and params.get("rate") is not None:
                params["dilations"] = params["rate"]  # TF1's name for the atrous rate
            return self.run_op(DEPTHWISE, params, ("input", "filters"), node)
        if name == "nn.atrous_conv2d":
            params = _bind(("input", "filters", "rate", "padding", "name"), args, kwargs)
            params.update(strides=1, dilations=params.pop("rate", UNKNOWN))
            return self.run_op(ATROUS, params, ("input", "filters"), node)
        if name == "nn.separable_conv2d":
            v1 = len(args) > 5 and isinstance(args[5], (list, tuple))
            params = _bind(SEPARABLE_V1 if v1 else SEPARABLE_V2, args, kwargs)
            if params.get("dilations") is None and params.get("rate") is not None:
                params["dilations"] = params["rate"]
            return self.run_op(SEPARABLE, params, ("input", "depthwise_filter", "pointwise_filter"), node)
        if name == "nn.conv2d_transpose":
            params = _bind(CONV2D_TRANSPOSE, args, kwargs)
            params.setdefault("padding", "SAME")
            params["output_shape"] = _output_shape(params.get("output_shape"))
            return self.run_op(CONV2D_T, params, ("input", "filters"), node)
        if qual in POOLS:
            return self.run_op(POOLS[qual], _bind(POOL, args, kwargs), ("input",), node)
        if name == "nn.bias_add":
            return self.run_op(BIAS_ADD, _bind(("input", "bias", "data_format", "name"), args, kwargs),
                               ("input", "bias"), node)
        if name == "matmul":
            params = _bind(("a", "b", "transpose_a", "transpose_b", "adjoint_a", "adjoint_b"), args, kwargs)
            return self.run_op(MATMUL, params, ("a", "b"), node)
        if name == "reshape":
            params = _bind(("input", "shape", "name"), args, kwargs)
            params["shape"] = _target_shape(params.get("shape"))
            return self.run_op(RESHAPE, params, ("input",), node)
        if qual in RESIZES:
            params = _bind(RESIZES[qual][1], args, kwargs)
            params["size"] = _output_shape(params.get("size"))
            return self.run_op(RESIZES[qual][0], params, ("input",), node)
        if qual in FLATTENS:
            return self.run_op(FLATTENS[qual], _bind(("input", "name"), args, kwargs), ("input",), node)
        if qual in IDENTITY:
            return self.run_op(IDENTITY[qual], _bind(("input",), args, kwargs), ("input",), node)
        if qual in ELEMENTWISE:
            left = args[0] if args else kwargs.get("x", UNKNOWN)
            right = args[1] if len(args) > 1 else kwargs.get("y", UNKNOWN)
            return self.elementwise(ELEMENTWISE[qual], left, right, node)
        if name in ("concat", "concatenate"):
            return self.concat(args, kwargs, node)
        source = self.source(name, args, kwargs)
        if source is not None:
            if name not in ("placeholder", "placeholder_with_default"):
                # Not the model input: messages name the call that made it ("from tf.Variable at line 6").
                source.producer = Node(ops.Source(f"tf.{name}"), {}, [], [], node, node, output=source.shape)
            return source
        if name.endswith("_initializer") or name.startswith(("initializers.", "contrib.layers.xavier")):
            return Initializer()
        if any(isinstance(a, Tensor) for a in list(args) + list(kwargs.values())):
            return Tensor(None, framework=FRAMEWORK)
        return UNKNOWN

    def source(self, name: str, args, kwargs):
        """Tensors made from a literal shape or value; None when ``name`` is not a source."""
        args = [_plain_shape(a) for a in args]
        kwargs = {k: _plain_shape(v) for k, v in kwargs.items()}
        if name in ("placeholder", "placeholder_with_default"):
            shape = args[1] if len(args) > 1 else kwargs.get("shape")
            return Tensor(None if shape is None else self.declare_none(shape, ops.as_shape(shape)),
                          framework=FRAMEWORK)
        if name in CREATORS:
            shape = args[0] if args else kwargs.get("shape")
            return Tensor(ops.as_shape(shape), framework=FRAMEWORK)
        if name == "fill":
            shape = args[0] if args else kwargs.get("dims")
            return Tensor(ops.as_shape(shape), framework=FRAMEWORK)
        if name in LIKE:
            value = args[0] if args else kwargs.get("input", kwargs.get("tensor"))
            return Tensor(value.shape if isinstance(value, Tensor) else None, framework=FRAMEWORK)
        if name == "constant":
            shape = args[2] if len(args) > 2 else kwargs.get("shape")
            if shape is not None:
                return Tensor(ops.as_shape(shape), framework=FRAMEWORK)
            value = args[0] if args else kwargs.get("value")
            return Tensor(ops.literal_shape(value), framework=FRAMEWORK)
        if name == "Variable":
            value = args[0] if args else kwargs.get("initial_value")
            if isinstance(value, Tensor):
                return Tensor(value.shape, framework=FRAMEWORK)
            return Tensor(ops.literal_shape(value), framework=FRAMEWORK)
        if name == "get_variable":
            shape = args[1] if len(args) > 1 else kwargs.get("shape")
            if shape is not None:
                return Tensor(ops.as_shape(shape), framework=FRAMEWORK)
            initializer = kwargs.get("initializer")
            return Tensor(initializer.shape if isinstance(initializer, Tensor) else None, framework=FRAMEWORK)
        return None

    def declare_none(self, written, shape):
        """A placeholder's shape with the sizes written as None past the batch as declared-None
        symbols: each run feeds them a concrete size (unresolved values stay unknown)."""
        if shape is None or not isinstance(written, (list, tuple)) or len(written) != len(shape):
            return shape
        positions = [i for i, d in enumerate(written) if d is None and i > 0]
        if not positions:
            return shape
        self.declared_count += 1
        suffix = "" if self.declared_count == 1 else str(self.declared_count)
        names = declared_none_names(len(shape) - 1, len(positions))
        symbols = {i: dims.declared_none(name + suffix) for i, name in zip(positions, names)}
        return tuple(symbols.get(i, d) for i, d in enumerate(shape))

    def _as_tensor(self, value):
        if isinstance(value, Tensor):
            return value
        return Tensor(ops.literal_shape(value) if value is not UNKNOWN else None, framework=FRAMEWORK)

    def run_op(self, op, params: dict, tensor_names: tuple, node):
        """Record ``op``; unresolved arguments stay UNKNOWN (or None inside lists) and silence what needs them."""
        tensors = [self._as_tensor(params.get(name, UNKNOWN)) for name in tensor_names]
        params = {key: (tuple(value) if isinstance(value, list) else value)
                  for key, value in params.items() if key not in tensor_names}
        return self.apply(op, params, tensors, node)

    def elementwise(self, op, left, right, node):
        if isinstance(left, Tensor) and isinstance(right, Tensor):
            return self.apply(op, {}, [left, right], node)
        tensor = left if isinstance(left, Tensor) else right
        scalar = right if tensor is left else left
        if isinstance(tensor, Tensor):
            if isinstance(scalar, (int, float, dims.Expr)) and not isinstance(scalar, bool):
                return Tensor(tensor.shape, tensor.producer, framework=FRAMEWORK)
            return Tensor(None, framework=FRAMEWORK)
        return UNKNOWN

    def concat(self, args, kwargs, node):
        values = args[0] if args else kwargs.get("values")
        axis = args[1] if len(args) > 1 else kwargs.get("axis", UNKNOWN)
        tensors = self.interp.iterate(values) if values is not None else None
        if not tensors or not all(isinstance(t, Tensor) for t in tensors) or not isinstance(axis, int):
            return Tensor(None, framework=FRAMEWORK)
        return self.apply(CONCAT, {"dim": axis}, tensors, node)

    # ----- interpreter hooks ------------------------------------------------------------------------

    def attr(self, owner, name, node):
        if name == "value" and isinstance(owner, (int, dims.Expr)) and not isinstance(owner, bool):
            return owner  # TF1's Dimension.value
        if isinstance(owner, Tensor):
            if name == "shape":
                return ShapeValue(owner.shape) if owner.shape is not None else UNKNOWN
            if name == "get_shape":
                return ExternalCall(lambda a, k, n: ShapeValue(owner.shape) if owner.shape is not None else UNKNOWN)
            if name == "ndim":
                return len(owner.shape) if owner.shape is not None else UNKNOWN
            return UNKNOWN
        if isinstance(owner, ShapeValue):
            shape = owner.shape
            if name == "as_list":
                return ExternalCall(lambda a, k, n: [_dim_value(d) for d in shape])
            if name in ("ndims", "rank"):
                return len(shape)
            if name == "dims":
                return [_dim_value(d) for d in shape]
            if name == "num_elements":
                return ExternalCall(lambda a, k, n: _product([_dim_value(d) for d in shape]))
            return UNKNOWN
        return UNKNOWN

    def subscript(self, value, index, node):
        if isinstance(value, ShapeValue):
            shape = value.shape
            if isinstance(index, int) and not isinstance(index, bool) and -len(shape) <= index < len(shape):
                return _dim_value(shape[index])
            if isinstance(index, slice):
                return ShapeValue(tuple(shape[index]))
            return UNKNOWN
        if isinstance(value, Tensor):
            return Tensor(None, framework=FRAMEWORK)
        return UNKNOWN

    def iterate(self, value):
        if isinstance(value, ShapeValue):
            return [_dim_value(d) for d in value.shape]
        return None

    def length(self, value):
        if isinstance(value, ShapeValue):
            return len(value.shape)
        return UNKNOWN

    def truth(self, value):
        return None

    def unary(self, value, node):
        if isinstance(value, dims.Expr):
            return dims.mul(value, -1) if isinstance(node.operator, cst.Minus) else UNKNOWN
        if isinstance(value, Tensor):
            return Tensor(value.shape, value.producer, framework=FRAMEWORK)
        return UNKNOWN

    def binary(self, op_type, left, right, node):
        if isinstance(left, Tensor) or isinstance(right, Tensor):
            if op_type is cst.MatrixMultiply and isinstance(left, Tensor) and isinstance(right, Tensor):
                return self.apply(MATMUL_OPERATOR, {}, [left, right], node)
            name = BINARY_OPS.get(op_type)
            if name is None:
                return Tensor(None, framework=FRAMEWORK)
            return self.elementwise(BINARY_SPECS[name], left, right, node)
        dim_ops = {cst.Add: dims.add, cst.Subtract: dims.sub, cst.Multiply: dims.mul, cst.FloorDivide: dims.floordiv}
        if op_type in dim_ops and all(isinstance(v, (int, dims.Expr)) and not isinstance(v, bool)
                                      for v in (left, right)):
            result = dim_ops[op_type](left, right)
            return UNKNOWN if result is None else result
        return UNKNOWN

    def merge_tensors(self, a: Tensor, b: Tensor) -> Tensor:
        merged = super().merge_tensors(a, b)
        return Tensor(merged.shape, framework=FRAMEWORK)

    def forget(self, value):
        return Tensor(None, framework=FRAMEWORK) if isinstance(value, Tensor) else UNKNOWN


def _plain_shape(value):
    """A ``TensorShape`` passed where a shape is expected, as the list of its dims."""
    if isinstance(value, ShapeValue):
        return [_dim_value(d) for d in value.shape]
    return value


def _target_shape(value):
    """tf.reshape's shape argument: ints, -1, and None where the program computes it at run time."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return UNKNOWN
    out = []
    for d in value:
        if isinstance(d, int) and not isinstance(d, bool):
            out.append(d)
        else:
            out.append(None)
    return tuple(out)


def _output_shape(value):
    if not isinstance(value, (list, tuple)):
        return UNKNOWN
    return tuple(d if isinstance(d, int) and not isinstance(d, bool) and d >= 0 else None for d in value)


def _product(values):
    if values is None:
        return UNKNOWN
    total = 1
    for v in values:
        if not isinstance(v, (int, dims.Expr)) or isinstance(v, bool):
            return UNKNOWN
        total = dims.mul(total, v)
    return UNKNOWN if total is None else total


def _first_input(model: Model):
    """The shape of the first tensor an op takes straight from a placeholder or a literal source."""
    for node in model.nodes:
        if node.inputs and node.sources and node.inputs[0] is not None and (
                node.sources[0] is None or isinstance(node.sources[0].op, ops.Source)):
            return node.inputs[0]
    return None


def analyse(module: cst.Module, inputs: dict | None = None, text: str | None = None) -> list[Model]:
    return TfNNFrontend(module, inputs).run()


__all__ = ["TfNNFrontend", "analyse", "canonical"]
