"""Keras frontend: evaluates a module with Keras semantics and records model graphs.

Every spelling of Keras counts (``keras``, ``tensorflow.keras``, ``tf.keras``, ``tf_keras``,
``from keras import layers``, ``from tensorflow.keras.layers import Conv2D``); names are resolved
from the file's imports, so a local ``layers`` list or MXNet's ``nn.Conv2D`` is not Keras.

Models are found where Keras builds them:

* ``Sequential([...])`` / ``Sequential()`` + ``.add(...)``: Keras builds the stack as soon as its
  input is known (an ``Input``/``InputLayer`` entry, ``input_shape=`` on the first layer, a
  ``build(...)`` call or a call on a tensor), so layers are applied as they are added;
* the functional API: ``keras.Input(shape=...)`` gives a tensor, ``layer(...)(x)`` applies;
  helper functions that build blocks are simply interpreted with the arguments they are given;
* ``keras.Model`` / ``layers.Layer`` subclasses: layers set in ``__init__``, applied in ``call``.

Keras builds a layer on its first call and pins what it learned there (the input channels of a
convolution, the input features of a ``Dense``); a later call with other sizes raises.
"""

from __future__ import annotations

import math
import re

import libcst as cst

from shapelint.frontends.base import FrameworkHooks, declared_none_names, statement_of
from shapelint.frontends.interp import (
    BudgetExceeded, ExternalCall, Function, Instance, ModuleRef, StatefulValue, UserClass,
)
from shapelint.frontends.keras_fit import DATA_METHODS, KerasBorders
from shapelint.ir import UNKNOWN, Model, Node, Problem, Tensor
from shapelint.parse import dotted_name
from shapelint.shapes import dims
from shapelint.shapes import keras_ops as ops
from shapelint.shapes.loss_ops import keras_loss_class
from shapelint.shapes.ops import OpSpec, bind_params

FRAMEWORK = "keras"
ROOTS = ("tensorflow.python.keras.", "tensorflow.keras.", "tensorflow.compat.v1.keras.", "tensorflow.compat.v2.keras.",
         "tf_keras.src.", "tf_keras.", "keras.src.", "keras.")

LAYERS: dict[str, OpSpec] = {}
for _n in (1, 2, 3):
    for _alias in (f"Conv{_n}D", f"Convolution{_n}D"):
        LAYERS[_alias] = ops.Conv(_n, "conv", _alias)
    for _alias in (f"Conv{_n}DTranspose", f"Convolution{_n}DTranspose"):
        LAYERS[_alias] = ops.Conv(_n, "transpose", _alias)
    for _kind, _names in (("max", (f"MaxPooling{_n}D", f"MaxPool{_n}D")),
                          ("avg", (f"AveragePooling{_n}D", f"AvgPool{_n}D"))):
        for _alias in _names:
            LAYERS[_alias] = ops.Pool(_n, _kind, _alias)
    for _kind, _names in (("max", (f"GlobalMaxPooling{_n}D", f"GlobalMaxPool{_n}D")),
                          ("avg", (f"GlobalAveragePooling{_n}D", f"GlobalAvgPool{_n}D"))):
        for _alias in _names:
            LAYERS[_alias] = ops.GlobalPool(_n, _kind, _alias)
for _n in (1, 2):
    for _alias in (f"SeparableConv{_n}D", f"SeparableConvolution{_n}D"):
        LAYERS[_alias] = ops.Conv(_n, "separable", _alias)
    LAYERS[f"DepthwiseConv{_n}D"] = ops.Conv(_n, "depthwise")
LAYERS.update({
    "Dense": ops.Dense(), "Flatten": ops.Flatten(), "Reshape": ops.Reshape(),
    "BatchNormalization": ops.BatchNormalization(), "ZeroPadding2D": ops.Padding2D(crop=False),
    "Cropping2D": ops.Padding2D(crop=True), "UpSampling2D": ops.UpSampling2D(),
    "Concatenate": ops.Concatenate(), "Embedding": ops.Embedding(), "Permute": ops.Permute(),
    "RepeatVector": ops.RepeatVector(),
})
for _name in ("Resizing", "CenterCrop", "RandomCrop"):
    LAYERS[_name] = ops.Resize(_name)
for _name in ("LSTM", "GRU", "SimpleRNN"):
    LAYERS[_name] = ops.Recurrent(_name)
for _name in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"):
    LAYERS[_name] = ops.Merge(_name)
for _name in ("Dropout SpatialDropout1D SpatialDropout2D SpatialDropout3D GaussianNoise GaussianDropout "
              "AlphaDropout Activation ReLU LeakyReLU PReLU ELU Softmax ThresholdedReLU LayerNormalization "
              "GroupNormalization UnitNormalization Rescaling Identity ActivityRegularization Masking "
              "Normalization RandomFlip RandomRotation RandomZoom RandomContrast RandomTranslation "
              "RandomBrightness").split():
    LAYERS[_name] = ops.Identity(_name)
MERGE_FUNCTIONS = {"add": "Add", "subtract": "Subtract", "multiply": "Multiply", "average": "Average",
                   "maximum": "Maximum", "minimum": "Minimum", "concatenate": "Concatenate"}
# Keras 1 keywords that Keras 2+ rejects ("Unrecognized keyword arguments"): the layer is unknown.
LEGACY_KWARGS = {"border_mode", "subsample", "nb_filter", "nb_row", "nb_col", "init", "W_regularizer",
                 "b_regularizer", "dim_ordering", "output_dim", "nb_epoch"}
# Keras 1 signatures ``Convolution2D(nb_filter, nb_row, nb_col)`` (SL306).
KERAS1_KERNEL_ARGS = {"Conv2D", "Convolution2D", "SeparableConv2D", "SeparableConvolution2D"}
# Functions of one tensor that keep its shape, reached as keras.ops.*, keras.activations.*, tf.nn.*, ...
SAME_SHAPE_FUNCTIONS = frozenset((
    "relu relu6 sigmoid tanh gelu silu swish softmax log_softmax elu selu leaky_relu softplus softsign "
    "hard_sigmoid hard_swish hard_silu mish exp log sqrt square abs negative cast stop_gradient identity "
    "dropout l2_normalize").split())
FUNCTION_ROOTS = ("keras.ops.nn.", "keras.ops.", "keras.activations.", "keras.backend.", "tensorflow.nn.",
                  "tensorflow.math.", "tensorflow.keras.activations.", "tensorflow.keras.backend.",
                  "tf_keras.activations.", "tf_keras.backend.", "tensorflow.")
BROADCAST_FUNCTIONS = {"add": "add", "subtract": "subtract", "multiply": "multiply", "maximum": "maximum",
                       "minimum": "minimum"}
CONCAT_FUNCTIONS = ("keras.ops.concatenate", "tensorflow.concat", "keras.backend.concatenate",
                    "tensorflow.keras.backend.concatenate")
# Concrete arrays a model is called on eagerly: qualified name -> how the shape is given.
CREATORS = {f"{root}.{name}": "shape" for root in ("numpy", "tensorflow", "keras.ops", "keras.random")
            for name in ("zeros", "ones", "empty")}
CREATORS.update({f"{root}.{name}": "shape" for root in ("tensorflow.random", "keras.random")
                 for name in ("normal", "uniform")})
CREATORS.update({"numpy.random.rand": "varargs", "numpy.random.randn": "varargs", "numpy.random.random": "shape",
                 "numpy.random.normal": "size", "numpy.random.uniform": "size"})
# Model methods that run the model on their first argument (an array with concrete sizes).
FEED_METHODS = {"predict", "predict_on_batch", "fit", "evaluate", "train_on_batch", "test_on_batch"}
MODEL_METHODS = {"compile", "fit", "evaluate", "predict", "summary", "save", "save_weights", "load_weights",
                 "fit_generator", "train_on_batch", "get_weights", "set_weights", "count_params", "to_json"}


def keras_path(qualname: str) -> str | None:
    """``layers.Conv2D`` for any spelling of ``keras.layers.Conv2D``; None if it is not Keras."""
    if qualname in ("keras", "tf_keras", "tensorflow.keras"):
        return ""
    for root in ROOTS:
        if qualname.startswith(root):
            return qualname[len(root):]
    return None


def keras_kind(qualname: str) -> str | None:
    """What a Keras name denotes: ``layer:Conv2D``, ``merge:add``, ``Sequential``, ``Model``, ``Input``..."""
    path = keras_path(qualname)
    if path is None or not path:
        return None
    parts = path.split(".")
    head, last = parts[0], parts[-1]
    if head == "layers" and len(parts) >= 2:
        if last == "VersionAwareLayers":
            return last
        if last in MERGE_FUNCTIONS and len(parts) == 2:
            return f"merge:{last}"
        if last in ("Input", "InputLayer"):
            return last
        if last == "Layer":
            return "Layer"
        return f"layer:{last}"
    if head in ("models", "engine") or len(parts) == 1:
        if last in ("Sequential", "Model", "Input"):
            return last
    if head == "Input" and len(parts) == 1:
        return "Input"
    if path == "applications.imagenet_utils.correct_pad":
        return "correct_pad"
    if head in ("backend", "config") and last in ("image_data_format", "set_image_data_format",
                                                  "set_image_dim_ordering", "image_dim_ordering", "int_shape"):
        return last
    return None


class KerasLayer(StatefulValue):
    """A constructed Keras layer; ``pinned`` holds what its first call fixed."""

    def __init__(self, op: OpSpec, params: dict, site, input_shape=None, broken: bool = False):
        self.op = op
        self.params = params
        self.site = site
        self.input_shape = input_shape  # full shape (batch first) from input_shape= / batch_input_shape=
        self.broken = broken
        self.pinned: dict = {}

    def snapshot(self):
        return dict(self.pinned)

    def restore(self, state):
        self.pinned = dict(state)

    def merge_states(self, left, right):
        return {k: (left.get(k) if left.get(k) == right.get(k) else None) for k in set(left) | set(right)}

    def forget_state(self, state):
        return {k: None for k in state}


class InputLayerValue:
    def __init__(self, shape):
        self.shape = shape


class FunctionalModel:
    """``keras.Model(inputs, outputs)``: called again on a tensor its one input accepts, it gives a
    tensor shaped like its one output; anything else is unknown (Keras rejects a tensor whose known
    dims differ from the model's input: "expected shape=(None, 16, 16, 3), found shape=...")."""

    def __init__(self, inputs, outputs, name=None):
        self.inputs = inputs
        self.outputs = outputs
        self.name = name if isinstance(name, str) else None

    def single(self):
        """(input tensor, output tensor) of a one-input, one-output model, else (None, None)."""
        inputs, outputs = self.inputs, self.outputs
        if isinstance(inputs, (list, tuple)) and len(inputs) == 1:
            inputs = inputs[0]
        if isinstance(outputs, (list, tuple)) and len(outputs) == 1:
            outputs = outputs[0]
        if isinstance(inputs, Tensor) and isinstance(outputs, Tensor):
            return inputs, outputs
        return None, None

    def output_for(self, tensor) -> Tensor:
        inputs, outputs = self.single()
        if inputs is not None and isinstance(tensor, Tensor) and _compatible(inputs.shape, tensor.shape):
            return Tensor(_bound_output(inputs.shape, tensor.shape, outputs.shape), outputs.producer,
                          framework=FRAMEWORK)
        return Tensor(None, framework=FRAMEWORK)


class SequentialValue(StatefulValue):
    """A ``Sequential`` stack; once its input is known every added layer is applied at once."""

    def __init__(self, site, model: Model):
        self.site = site
        self.model = model
        self.layers: list = []
        self.output: Tensor | None = None  # the stack's output so far, once the input is known
        self.opaque = False

    def snapshot(self):
        return (list(self.layers), self.output, self.opaque)

    def restore(self, state):
        self.layers, self.output, self.opaque = list(state[0]), state[1], state[2]

    def merge_states(self, left, right):
        """Paths that added different layers still agree on the output shape where their outputs
        agree (an optional BatchNormalization); a stack whose input is not known yet cannot be
        replayed after such paths, so it becomes opaque."""
        same = len(left[0]) == len(right[0]) and all(a is b for a, b in zip(left[0], right[0]))
        lo, ro = left[1], right[1]
        if lo is None and ro is None:
            output = None
        elif lo is ro:
            output = lo
        elif lo is None or ro is None or lo.shape is None or ro.shape is None or len(lo.shape) != len(ro.shape):
            output = Tensor(None, framework=FRAMEWORK)
        else:
            output = Tensor(tuple(a if dims.same(a, b) else None for a, b in zip(lo.shape, ro.shape)),
                            framework=FRAMEWORK)
        opaque = left[2] or right[2] or (not same and (lo is None or ro is None))
        return (list(left[0] if len(left[0]) >= len(right[0]) else right[0]), output, opaque)

    def forget_state(self, state):
        return (list(state[0]), Tensor(None, framework=FRAMEWORK) if state[1] is not None else None, True)


def _as_dim(value):
    if isinstance(value, bool):
        return None
    return value if isinstance(value, (int, dims.Expr)) else None


DECLARED_NONE = object()  # a literal None in a declared shape, until ``declare_none`` names it


def _shape_value(shape, batch=True, keep_none=False):
    """A literal shape tuple (``(28, 28, 1)``) as a Shape; ``batch`` prepends the unknown batch.

    ``keep_none`` marks each literal None with ``DECLARED_NONE`` (unresolved values stay None)."""
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)):
        return None
    if not all(v is None or v is UNKNOWN or (isinstance(v, int) and not isinstance(v, bool) and v >= 0)
               for v in shape):
        return None
    dims_ = tuple(None if v is UNKNOWN else (DECLARED_NONE if v is None and keep_none else v) for v in shape)
    return ((None,) + dims_) if batch else dims_


class KerasFrontend(FrameworkHooks):
    framework = FRAMEWORK

    def __init__(self, module: cst.Module, inputs: dict | None = None, text: str | None = None):
        super().__init__(module, inputs)
        self.text = text  # the file's source: the module may have been parsed from a pruned copy
        self.sequentials: list = []
        self.modelled_classes: set = set()
        self.in_user_call = 0
        self.default_layout = ops.LAST
        self.layout_set = False
        self.assigned_names = _module_assignments(module)
        self.declared_count = 0
        self.declared_inputs: list = []  # shapes with declared-None symbols, in creation order
        self.borders = KerasBorders(self)  # compile's loss; fit / predict against the model's borders

    # ----- model discovery ------------------------------------------------------------------

    def run(self) -> list[Model]:
        script = Model("<module>", FRAMEWORK, self.module, input_source="script")
        self.current = script
        self.interp.globals.update(_star_imports(self.module))
        try:
            self.interp.run_module()
        except BudgetExceeded:
            pass
        for name, value in list(self.interp.globals.items()):
            if isinstance(value, SequentialValue) and value.model.name == "Sequential":
                value.model.name = name
        functions = [(n, v) for n, v in self.interp.globals.items() if isinstance(v, Function) and v.owner is None]
        classes = [c for c in self.interp.classes if self.is_keras_class(c) and id(c) not in self.modelled_classes]
        called = _called_names(self.text if self.text is not None else self.module.code) \
            if functions or classes else set()
        for name, value in functions:
            if name not in called:
                self._run_model(Model(name, FRAMEWORK, value.node, input_source="script"),
                                lambda f=value: self.interp.call_function(f, [], {}, f.node), keep=True)
        for seq, speculative in list(self.sequentials):
            if seq.output is None and not seq.opaque and not speculative and seq.layers:
                self._analyse_sequential(seq)
        for cls in classes:
            declared = self.declared_input(cls.name, cls.node)[0] is not None
            if id(cls) not in self.modelled_classes and (cls.name not in called or declared):
                self._analyse_class(cls)
        self.current = None
        if script.nodes:
            self.models.insert(0, script)
        for seq, _ in self.sequentials:
            if seq.model.nodes and seq.model not in self.models:
                self.models.append(seq.model)
        found = [m for m in self.models if m.nodes]
        for model in found:
            if model.input is None and self.declared_inputs:
                model.input = self._declared_input_of(model)
        return found

    def _declared_input_of(self, model: Model):
        """A model built by a script or function has no single input: it is shown with the first
        declared shape whose None sizes its layers receive (the sizes ``accepts`` is about)."""
        used = set()
        for node in model.nodes:
            for shape in node.inputs:
                for d in shape or ():
                    if isinstance(d, dims.Expr):
                        used |= d.declared_symbols()
        for shape in self.declared_inputs:
            if any(isinstance(d, dims.Expr) and d.name in used for d in shape):
                return shape
        return None

    def _run_model(self, model: Model, body, keep: bool = False):
        self.run_model(model, body)
        if keep and model.nodes:
            self.models.append(model)

    def _analyse_sequential(self, seq: SequentialValue):
        shape, source = self.declared_input(seq.model.name, statement_of(self.module, seq.site))
        if shape is None:
            first = seq.layers[0]
            usable = isinstance(first, KerasLayer) and not first.broken
            shape, source = self.symbolic_input((first.op, first.params, []) if usable else None), "symbolic"
        if shape is None:
            return
        seq.model.input, seq.model.input_source = shape, source
        self._run_model(seq.model, lambda: self._replay(seq, Tensor(shape, framework=FRAMEWORK)))

    def _analyse_class(self, cls: UserClass):
        shape, source = self.declared_input(cls.name, cls.node)
        model = Model(cls.name, FRAMEWORK, cls.node, input=shape, input_source=source or "symbolic")

        def body():
            instance = self.interp.instantiate(cls, [], {}, cls.node)
            self.in_user_call += 1
            try:
                self._invoke_call(instance, [Tensor(shape, framework=FRAMEWORK)], {}, cls.node)
            finally:
                self.in_user_call -= 1

        self._run_model(model, body, keep=True)

    def is_keras_class(self, cls: UserClass) -> bool:
        for base in cls.external_bases():
            if isinstance(base, ModuleRef) and keras_kind(base.qualname) in ("Model", "Layer", "Sequential"):
                return True
        return False

    # ----- graph recording ------------------------------------------------------------------

    def construct(self, name: str, args, kwargs, node):
        if name in ("Bidirectional", "TimeDistributed"):
            return self.construct_wrapper(name, args, kwargs, node)
        op = LAYERS.get(name) or ops.Unknown(name)
        params = bind_params(op.signature, args, kwargs)
        if isinstance(op, ops.Recurrent):
            for key in ("return_sequences", "return_state"):
                params[key] = kwargs.get(key, False) if isinstance(kwargs, dict) else UNKNOWN
        broken = kwargs is UNKNOWN or args is UNKNOWN or bool(LEGACY_KWARGS & set(kwargs))
        if isinstance(op, ops.Resize):
            params["data_format"] = kwargs.get("data_format") if isinstance(kwargs, dict) else UNKNOWN
        if "data_format" in params and params["data_format"] is None:
            params["data_format"] = self.default_layout
        input_shape = None
        if isinstance(kwargs, dict):
            if "batch_input_shape" in kwargs:
                input_shape = self.declare_none(_shape_value(kwargs["batch_input_shape"], batch=False, keep_none=True))
            elif "input_shape" in kwargs:
                input_shape = self.declare_none(_shape_value(kwargs["input_shape"], keep_none=True))
            elif "input_dim" in kwargs:
                input_shape = _shape_value(kwargs["input_dim"])
        if name in KERAS1_KERNEL_ARGS and _keras1_kernel_args(name, args, kwargs):
            self.record_problems(op, params, [Problem("keras1_positional", {
                "layer": name, "filters": args[0], "kernel": args[1], "third": args[2]}, fatal=False)], node)
        problems = op.check_params(params)
        for problem in problems:
            self.record_problems(op, params, [problem], node)
        return KerasLayer(op, params, node, input_shape, broken or any(p.fatal for p in problems))

    def construct_wrapper(self, name, args, kwargs, node):
        """Bidirectional / TimeDistributed around a layer shapelint models."""
        op = ops.Bidirectional() if name == "Bidirectional" else ops.TimeDistributed()
        inner = None
        if isinstance(args, list) and isinstance(kwargs, dict):
            inner = args[0] if args else kwargs.get("layer")
        if not isinstance(inner, KerasLayer) or inner.broken or isinstance(inner.op, ops.Unknown):
            return KerasLayer(ops.Unknown(name), {}, node)
        params = {"inner_op": inner.op, "inner_params": inner.params,
                  "merge_mode": kwargs.get("merge_mode", args[1] if len(args) > 1 else "concat")}
        return KerasLayer(op, params, node)

    def run_layer(self, layer: KerasLayer, tensors: list, call_site) -> Tensor:
        if layer.broken or isinstance(layer.op, ops.Unknown):
            return Tensor(None, framework=FRAMEWORK)
        params = dict(layer.params)
        params.update({k: v for k, v in layer.pinned.items() if v is not None})
        result = self.apply(layer.op, params, tensors, call_site, layer.site)
        if result.producer is not None and not any(p.fatal for p in result.producer.problems):
            self._pin(layer, tensors[0].shape)
        return result

    def _pin(self, layer: KerasLayer, shape):
        """What the first call builds into the layer (InputSpec axes)."""
        op = layer.op
        key, value = None, None
        if isinstance(op, ops.Dense):
            key = "built_features"
            value = shape[-1] if shape else None
        elif isinstance(op, ops.Conv) and op.kind != "depthwise":
            key = "built_channels"
            layout = layer.params.get("data_format")
            if shape is not None and len(shape) == op.rank + 2 and layout in (ops.LAST, ops.FIRST):
                value = shape[-1] if layout == ops.LAST else shape[1]
        elif isinstance(op, ops.BatchNormalization):
            key = "built_channels"
            axis = layer.params.get("axis")
            if shape is not None and isinstance(axis, int) and not isinstance(axis, bool) \
                    and -len(shape) <= axis < len(shape):
                value = shape[axis]
        if key is None or key in layer.pinned:
            return
        self.interp.record(layer)
        layer.pinned[key] = value if isinstance(value, int) else None

    # ----- calls ------------------------------------------------------------------------------

    def call(self, func, args, kwargs, node):
        if isinstance(func, ModuleRef):
            return self.call_qualified(func.qualname, args, kwargs, node)
        if isinstance(func, KerasLayer):
            return self.call_layer(func, args, node)
        if isinstance(func, SequentialValue):
            tensor = args[0] if isinstance(args, list) and args and isinstance(args[0], Tensor) else None
            if tensor is None:
                return UNKNOWN if args is UNKNOWN or not args else Tensor(None, framework=FRAMEWORK)
            return self._call_sequential(func, tensor)
        if isinstance(func, Instance):
            return self.call_instance(func, args, kwargs, node)
        if isinstance(func, FunctionalModel):
            tensor = args[0] if isinstance(args, list) and len(args) == 1 else None
            spec, output = func.single()
            if isinstance(tensor, Tensor) and spec is not None and spec.shape is not None and tensor.shape is not None:
                bound = output.shape if len(spec.shape) != len(tensor.shape) \
                    else _bound_output(spec.shape, tensor.shape, output.shape)
                params = {"spec": spec.shape, "output": bound}
                return self.apply(ops.ModelCall(func.name or "Model"), params, [tensor], node, node)
            return func.output_for(tensor)
        if isinstance(func, InputLayerValue):
            return Tensor(None, framework=FRAMEWORK)
        if _has_tensor(args, kwargs):
            return Tensor(None, framework=FRAMEWORK)
        return UNKNOWN

    def call_layer(self, layer: KerasLayer, args, node):
        if args is UNKNOWN or not args:
            return UNKNOWN
        first = args[0]
        if isinstance(layer.op, (ops.Merge, ops.Concatenate)):
            items = self.interp.iterate(first) if isinstance(first, (list, tuple)) else None
            if items is None or not items or not all(isinstance(t, Tensor) for t in items):
                return Tensor(None, framework=FRAMEWORK)
            return self.run_layer(layer, list(items), node)
        if not isinstance(first, Tensor):
            return Tensor(None, framework=FRAMEWORK) if _has_tensor(args, {}) else UNKNOWN
        return self.run_layer(layer, [first], node)

    def call_qualified(self, qual, args, kwargs, node):
        kind = keras_kind(qual)
        if kind is None:
            loss = keras_loss_class(qual, args, kwargs)
            if loss is not None:
                return loss
            if args is UNKNOWN or kwargs is UNKNOWN:
                return UNKNOWN
            if qual in CREATORS:
                return Tensor(_created_shape(CREATORS[qual], args, kwargs), framework=FRAMEWORK)
            result = self.tensor_function(qual, args, kwargs, node)
            if result is not None:
                return result
            return Tensor(None, framework=FRAMEWORK) if _has_tensor(args, kwargs) else UNKNOWN
        if kind.startswith("layer:"):
            return self.construct(kind.split(":", 1)[1], args, kwargs, node)
        if kind.startswith("merge:"):
            return self.functional_merge(kind.split(":", 1)[1], args, kwargs, node)
        if kind == "Input":
            return self.make_input(args, kwargs)
        if kind == "InputLayer":
            tensor = self.make_input(args, kwargs, legacy=True)
            return InputLayerValue(tensor.shape)
        if kind == "Sequential":
            return self.make_sequential(args, kwargs, node)
        if kind == "Model":
            if args is UNKNOWN or kwargs is UNKNOWN:
                return FunctionalModel(None, None)
            inputs = args[0] if args else kwargs.get("inputs")
            outputs = args[1] if len(args) >= 2 else kwargs.get("outputs")
            return FunctionalModel(inputs, outputs, kwargs.get("name"))
        if kind == "image_data_format":
            # the layout every layer without data_format= is analysed with (Keras's default,
            # channels_last, unless the file sets another): answering the same keeps them consistent
            return self.default_layout
        if kind == "image_dim_ordering":
            return {ops.LAST: "tf", ops.FIRST: "th"}.get(self.default_layout, UNKNOWN)
        if kind in ("set_image_data_format", "set_image_dim_ordering"):
            value = args[0] if isinstance(args, list) and args else UNKNOWN
            value = {"tf": ops.LAST, "th": ops.FIRST}.get(value, value) if kind == "set_image_dim_ordering" else value
            if value in (ops.LAST, ops.FIRST) and self.interp.speculative == 0:
                self.default_layout, self.layout_set = value, True
            else:
                self.default_layout, self.layout_set = UNKNOWN, False
            return None
        if kind == "VersionAwareLayers":
            # tf.keras's internal spelling of the layers module ("use it just like the layers module")
            return ModuleRef("tf_keras.layers")
        if kind == "correct_pad":
            return self._correct_pad(args, kwargs)
        if kind == "int_shape":
            tensor = args[0] if isinstance(args, list) and args else None
            return self._shape_tuple(tensor) if isinstance(tensor, Tensor) else UNKNOWN
        return UNKNOWN

    def _correct_pad(self, args, kwargs):
        """``imagenet_utils.correct_pad(inputs, kernel_size)``: the ZeroPadding2D amounts Keras's
        applications put before a strided 'valid' convolution (one row less at the start for an
        even size; (1, 1) less when the size is None)."""
        if args is UNKNOWN or kwargs is UNKNOWN:
            return UNKNOWN
        params = list(args) + [kwargs[k] for k in ("inputs", "kernel_size") if k in kwargs]
        if len(params) != 2 or not isinstance(params[0], Tensor) or params[0].shape is None \
                or len(params[0].shape) != 4 or self.default_layout not in (ops.LAST, ops.FIRST):
            return UNKNOWN
        tensor, kernel = params
        if isinstance(kernel, int) and not isinstance(kernel, bool):
            kernel = (kernel, kernel)
        if not (isinstance(kernel, (tuple, list)) and len(kernel) == 2
                and all(isinstance(k, int) and not isinstance(k, bool) for k in kernel)):
            return UNKNOWN
        first = 2 if self.default_layout == ops.FIRST else 1
        size = tensor.shape[first:first + 2]
        if size[0] is None or _is_declared_symbol(size[0]):  # Keras sees None for both
            adjust = (1, 1)
        elif all(isinstance(d, int) for d in size):
            adjust = (1 - size[0] % 2, 1 - size[1] % 2)
        else:
            return UNKNOWN
        correct = (kernel[0] // 2, kernel[1] // 2)
        return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))

    def tensor_function(self, qual, args, kwargs, node):
        """keras.ops / activations / tf.nn functions on Keras tensors; None if not one of them."""
        for compat in ("tensorflow.compat.v1.", "tensorflow.compat.v2."):
            if qual.startswith(compat):
                qual = "tensorflow." + qual[len(compat):]
        root = next((r for r in FUNCTION_ROOTS if qual.startswith(r)), None)
        if root is None:
            return None
        name = qual[len(root):]
        first = args[0] if args else kwargs.get("x")
        if qual == "tensorflow.reshape" and len(args) == 2 and not kwargs:
            return _constant_reshape(args[0], args[1])
        if name in SAME_SHAPE_FUNCTIONS and isinstance(first, Tensor):
            return Tensor(first.shape, first.producer, framework=FRAMEWORK)
        if name in BROADCAST_FUNCTIONS and len(args) >= 2 and all(isinstance(a, Tensor) for a in args[:2]):
            return self.apply(ops.Merge(f"ops.{name}", layer=False), {}, list(args[:2]), node, node)
        if qual in CONCAT_FUNCTIONS and args:
            items = self.interp.iterate(args[0]) if isinstance(args[0], (list, tuple)) else None
            axis = args[1] if len(args) > 1 else kwargs.get("axis", -1)
            if items and all(isinstance(t, Tensor) for t in items) and isinstance(axis, int):
                return self.apply(ops.Concatenate(f"ops.{qual.rsplit('.', 1)[-1]}"), {"axis": axis}, list(items),
                                  node, node)
        return None

    def make_input(self, args, kwargs, legacy: bool = False) -> Tensor:
        if args is UNKNOWN or kwargs is UNKNOWN:
            return Tensor(None, framework=FRAMEWORK)
        batch_shape = kwargs.get("batch_shape", kwargs.get("batch_input_shape"))
        if batch_shape is not None:
            return Tensor(self.declare_none(_shape_value(batch_shape, batch=False, keep_none=True)),
                          framework=FRAMEWORK)
        shape = args[0] if args else kwargs.get("shape", kwargs.get("input_shape"))
        result = _shape_value(shape, keep_none=True)
        batch = args[1] if len(args) > 1 else kwargs.get("batch_size")
        if result is not None and isinstance(batch, int) and not isinstance(batch, bool):
            result = (batch,) + result[1:]
        return Tensor(self._input_shape(result), framework=FRAMEWORK)

    def _input_shape(self, declared):
        configured = self._configured_input(declared)
        return configured if configured is not None else self.declare_none(declared)

    def declare_none(self, shape):
        """A declared shape with its None sizes (past the batch) as declared-None symbols.

        ``_shape_value(..., keep_none=True)`` marks a literal None with ``DECLARED_NONE``, apart
        from a value the analysis could not resolve (None, unknown): only the literal is a size
        Keras builds the model without."""
        if shape is None:
            return None
        positions = [i for i, d in enumerate(shape) if d is DECLARED_NONE and i > 0]
        if not positions:
            return tuple(None if d is DECLARED_NONE else d for d in shape)
        self.declared_count += 1
        suffix = "" if self.declared_count == 1 else str(self.declared_count)
        names = declared_none_names(len(shape) - 1, len(positions))
        symbols = {i: dims.declared_none(name + suffix) for i, name in zip(positions, names)}
        shape = tuple(symbols.get(i, None if d is DECLARED_NONE else d) for i, d in enumerate(shape))
        self.declared_inputs.append(shape)
        return shape

    def _configured_input(self, declared):
        """--input-shape / [tool.shapelint.inputs] for the model being analysed: the first ``Input``
        it creates takes the configured shape when what the file declares is unknown or admits it
        (``Input(shape=input_shape)`` with ``input_shape`` computed elsewhere)."""
        model = self.current
        if model is None or model.input_source != "script" or model.input is not None \
                or self.interp.speculative:
            return None
        configured = self.inputs.get(model.name, self.inputs.get("*"))
        plain = None if declared is None else tuple(None if d is DECLARED_NONE else d for d in declared)
        if configured is None or not (plain is None or _compatible(plain, configured)):
            return None
        model.input, model.input_source = tuple(configured), "configuration"
        return tuple(configured)

    def functional_merge(self, name, args, kwargs, node):
        if args is UNKNOWN or kwargs is UNKNOWN or not args:
            return UNKNOWN
        layer_name = MERGE_FUNCTIONS[name]
        layer = self.construct(layer_name, args[1:], {k: v for k, v in kwargs.items() if k != "inputs"}, node)
        return self.call_layer(layer, [args[0]] if args else [kwargs.get("inputs")], node)

    # ----- Sequential -------------------------------------------------------------------------

    def make_sequential(self, args, kwargs, node):
        name = self.assigned_names.get(id(node), "Sequential")
        seq = SequentialValue(node, Model(name, FRAMEWORK, node, input_source="script"))
        self.sequentials.append((seq, self.interp.speculative > 0))
        configured = self.inputs.get(name, self.inputs.get("*")) if name != "Sequential" else None
        if configured is not None:
            # --input-shape / [tool.shapelint.inputs] come before what the file says
            seq.model.input, seq.model.input_source = tuple(configured), "configuration"
            seq.output = Tensor(tuple(configured), framework=FRAMEWORK)
        if args is UNKNOWN or kwargs is UNKNOWN:
            seq.opaque = True
            return seq
        source = args[0] if args else kwargs.get("layers")
        if source is None:
            return seq
        items = self.interp.iterate(source)
        if items is None:
            seq.opaque = True
            return seq
        for item in items:
            self.sequential_add(seq, item)
        return seq

    def sequential_add(self, seq: SequentialValue, item):
        self.interp.record(seq)
        if not seq.layers and isinstance(item, (Tensor, InputLayerValue)) and seq.model.input_source == "configuration":
            seq.layers.append(item)  # the configured input replaces the file's
            return
        if not seq.layers and seq.output is None:
            shape = None
            if isinstance(item, Tensor):
                shape = item.shape
            elif isinstance(item, InputLayerValue):
                shape = item.shape
            elif isinstance(item, KerasLayer) and item.input_shape is not None:
                shape = item.input_shape
            if isinstance(item, (Tensor, InputLayerValue)) or shape is not None:
                seq.model.input, seq.model.input_source = shape, "input layer"
                seq.output = Tensor(shape, framework=FRAMEWORK)
                if isinstance(item, (Tensor, InputLayerValue)):
                    seq.layers.append(item)
                    return
        seq.layers.append(item)
        if seq.output is None:
            return
        if seq.opaque:
            seq.output = Tensor(None, framework=FRAMEWORK)
            return
        seq.output = self._apply_entry(seq, item, seq.output)

    def _apply_entry(self, seq: SequentialValue, item, x):
        site = getattr(item, "site", seq.site)
        saved = self.current
        self.current = seq.model
        try:
            if isinstance(item, (Tensor, InputLayerValue)):
                return Tensor(None, framework=FRAMEWORK)
            result = self.interp.call(item, [x], {}, site)
        finally:
            self.current = saved
        return result if isinstance(result, Tensor) else Tensor(None, framework=FRAMEWORK)

    def _replay(self, seq: SequentialValue, x: Tensor) -> Tensor:
        """Run the whole stack on ``x`` (a build or a call of a stack whose input was not known)."""
        if seq.opaque:
            return Tensor(None, framework=FRAMEWORK)
        self.interp.record(seq)
        for item in seq.layers:
            if isinstance(item, (Tensor, InputLayerValue)) and item is seq.layers[0]:
                continue
            x = self._apply_entry(seq, item, x)
        seq.output = x
        return x

    def _call_sequential(self, seq: SequentialValue, tensor: Tensor):
        if seq.opaque:
            return Tensor(None, framework=FRAMEWORK)
        if seq.output is None:
            seq.model.input, seq.model.input_source = tensor.shape, "call in file"
            return self._replay(seq, tensor)
        if _compatible(seq.model.input, tensor.shape):
            return Tensor(_bound_output(seq.model.input, tensor.shape, seq.output.shape), seq.output.producer,
                          framework=FRAMEWORK)
        # A built stack rejects other known sizes (its InputSpec); what that call gives is unknown.
        return Tensor(None, framework=FRAMEWORK)

    def _build_sequential(self, seq: SequentialValue, args):
        if seq.output is not None or not isinstance(args, list) or not args:
            return None
        shape = self.declare_none(_shape_value(args[0], batch=False, keep_none=True))
        if shape is None:
            return None
        seq.model.input, seq.model.input_source = shape, "build in file"
        self._replay(seq, Tensor(shape, framework=FRAMEWORK))
        return None

    # ----- subclassed models and layers -------------------------------------------------------

    def call_instance(self, instance: Instance, args, kwargs, node):
        if not self.is_keras_class(instance.cls):
            return UNKNOWN
        tensor = args[0] if isinstance(args, list) and args and isinstance(args[0], Tensor) else None
        top_level = self.current is not None and self.current.name == "<module>" and self.in_user_call == 0
        if top_level and tensor is not None:
            cls = instance.cls
            if id(cls) not in self.modelled_classes:
                self.modelled_classes.add(id(cls))
                shape, source = self.declared_input(cls.name, cls.node)
                if shape is not None:
                    tensor = Tensor(shape, framework=FRAMEWORK)
                    args = [tensor] + list(args[1:])
                target = Model(cls.name, FRAMEWORK, cls.node, input=tensor.shape, input_source=source or "call in file")
                self.models.append(target)
            else:
                target = Model(cls.name, FRAMEWORK, cls.node)
            saved = self.current
            self.current = target
            self.in_user_call += 1
            try:
                return self._invoke_call(instance, args, kwargs, node)
            finally:
                self.in_user_call -= 1
                self.current = saved
        return self._invoke_call(instance, args, kwargs, node)

    def _invoke_call(self, instance: Instance, args, kwargs, node):
        call = instance.cls.lookup("call")
        if not isinstance(call, Function):
            return Tensor(None, framework=FRAMEWORK) if _has_tensor(args, kwargs) else UNKNOWN
        build = instance.cls.lookup("build")
        if isinstance(build, Function) and not instance.attrs.get("__built__") and isinstance(args, list) and args \
                and isinstance(args[0], Tensor):
            self.interp.set_attr(instance, "__built__", True)
            self.interp.call_function(build, [instance, self._shape_tuple(args[0])], {}, node)
        return self.interp.call_function(call, [instance] + (args if args is not UNKNOWN else []),
                                         kwargs if args is not UNKNOWN else UNKNOWN, node)

    def _build_instance(self, instance: Instance, args, node):
        """``model.build(shape)`` on a subclassed model: tf.keras 2 runs ``call`` on that shape there;
        Keras 3 only marks the model built and fails at its first real call, with the same shapes."""
        if not isinstance(args, list) or not args:
            return None
        shape = _shape_value(args[0], batch=False)
        if shape is not None:
            self.call_instance(instance, [Tensor(shape, framework=FRAMEWORK)], {}, node)
        return None

    # ----- interpreter hooks -------------------------------------------------------------------

    @staticmethod
    def _shape_tuple(tensor: Tensor):
        if tensor.shape is None:
            return UNKNOWN
        return tuple(d if isinstance(d, int) else UNKNOWN for d in tensor.shape)

    def attr(self, owner, name, node):
        if isinstance(owner, Tensor):
            if name == "shape":
                return self._shape_tuple(owner)
            if name == "ndim":
                return len(owner.shape) if owner.shape is not None else UNKNOWN
            return UNKNOWN
        if isinstance(owner, SequentialValue):
            if name == "add":
                return ExternalCall(lambda a, k, n: self._seq_add_call(owner, a))
            if name == "build":
                return ExternalCall(lambda a, k, n: self._build_sequential(owner, _shape_argument(a, k)))
            if name in ("output", "outputs"):
                known = owner.output is not None and not owner.opaque
                out = owner.output if known else Tensor(None, framework=FRAMEWORK)
                return out if name == "output" else [out]
            if name in FEED_METHODS:
                return ExternalCall(lambda a, k, n, m=name: self._feed_and_check(
                    owner, m, lambda: self._feed(owner.model.input, owner.model.nodes, a, k, n), a, k, n))
            if name == "compile":
                return ExternalCall(lambda a, k, n: self.borders.compile(owner, a, k))
            if name in MODEL_METHODS:
                return ExternalCall(lambda a, k, n: None)
            if name == "pop":
                return ExternalCall(lambda a, k, n: self._opaque(owner))
            return UNKNOWN
        if isinstance(owner, FunctionalModel):
            spec, output = owner.single()
            if name in FEED_METHODS and spec is not None:
                return ExternalCall(lambda a, k, n, m=name: self._feed_and_check(
                    owner, m, lambda: self._feed(spec.shape, _graph_nodes(output), a, k, n), a, k, n))
            if name == "compile":
                return ExternalCall(lambda a, k, n: self.borders.compile(owner, a, k))
            return UNKNOWN
        return UNKNOWN

    def _feed_and_check(self, owner, method, feed, args, kwargs, node):
        """A model method that runs the model on arrays: the model's own layers at the array's
        sizes (``_feed``), then the arrays against its input and output (``keras_fit``)."""
        if method not in DATA_METHODS:
            feed()
            return None
        return self.borders.feed(owner, method, args, kwargs, node, lambda x: self._model_info(owner, x, feed))

    def _model_info(self, owner, x, feed):
        """(input spec, output tensor, functional?, the Model to record border findings in)."""
        if isinstance(owner, FunctionalModel):
            spec, output = owner.single()
            feed()
            return (spec.shape, output, True, self.current) if spec is not None else None
        if owner.opaque:
            return None
        if owner.output is None and owner.layers and x is not None and x.shape is not None \
                and not isinstance(owner.layers[0], (Tensor, InputLayerValue)):
            # a stack with no declared input is built by its first fit / predict, on the array's sizes
            owner.model.input, owner.model.input_source = (None,) + tuple(x.shape[1:]), "data in file"
            self._run_model(owner.model, lambda: self._replay(owner, Tensor(owner.model.input, framework=FRAMEWORK)))
        else:
            feed()
        if owner.output is None:
            return None
        return owner.model.input, owner.output, False, owner.model

    def rejecting_layer(self, seq: SequentialValue, shape):
        """The first layer of a built stack that rejects an input of ``shape``, or None: a Sequential
        runs its layers on whatever sizes an array has (its layers' own InputSpecs decide)."""
        if seq.opaque or seq.output is None:
            return None
        scratch = Model(seq.model.name, FRAMEWORK, seq.site)
        saved = self.current
        self.current = scratch
        x = Tensor(shape, framework=FRAMEWORK)
        try:
            for item in seq.layers:
                if isinstance(item, (Tensor, InputLayerValue)):
                    continue
                result = self.interp.call(item, [x], {}, getattr(item, "site", seq.site))
                fatal = next((n for n in scratch.nodes if any(p.fatal for p in n.problems)), None)
                if fatal is not None:
                    return fatal
                x = result if isinstance(result, Tensor) else Tensor(None, framework=FRAMEWORK)
        finally:
            self.current = saved
        return None

    def _feed(self, spec, nodes, args, kwargs, node):
        """``model.predict(np.zeros((2, 37, 45, 3)))`` (fit, evaluate, ...) on a model whose input
        declares None sizes: each layer runs with those sizes bound to the array's, and the first
        one Keras would refuse is reported at this call, where Keras raises."""
        data = args[0] if isinstance(args, list) and args else (kwargs.get("x") if isinstance(kwargs, dict) else None)
        if not isinstance(data, Tensor) or data.shape is None or spec is None or len(spec) != len(data.shape):
            return None
        env = {s.name: d for s, d in zip(spec, data.shape) if _is_declared_symbol(s) and isinstance(d, int)}
        if not env:
            return None
        for layer in nodes:
            if layer.speculative or not layer.inputs:
                continue
            inputs = [None if shape is None else tuple(dims.substitute(d, env) for d in shape)
                      for shape in layer.inputs]
            if not any(shape is not None and shape != before for shape, before in zip(inputs, layer.inputs)):
                continue  # no declared-None size reaches this layer
            params = {k: dims.substitute(v, env) if isinstance(v, dims.Expr) else v for k, v in layer.params.items()}
            fatal = [p for p in layer.op.check(params, inputs) if p.fatal]
            if fatal:
                if self.current is not None:
                    self.current.nodes.append(Node(layer.op, params, inputs, list(layer.sources), node, node,
                                                   problems=fatal[:1], speculative=self.interp.speculative > 0,
                                                   anchor=self.interp.anchor, fed_from=layer))
                return None
        return None

    @staticmethod
    def _weight(args, kwargs):
        """``self.add_weight(shape=(C,), ...)`` in a layer's ``build``: a variable of that shape
        (Keras 3 and tf.keras 2 both take ``shape`` as the keyword; positionally it comes after ``name``
        in tf.keras and first in Keras 3, so only the keyword is read)."""
        shape = kwargs.get("shape") if isinstance(kwargs, dict) else None
        if isinstance(shape, int) and not isinstance(shape, bool):
            shape = (shape,)
        return Tensor(_shape_value(shape, batch=False), framework=FRAMEWORK)

    def _seq_add_call(self, seq, args):
        if args is UNKNOWN or len(args) != 1:
            self._opaque(seq)
            return None
        self.sequential_add(seq, args[0])
        return None

    def _opaque(self, seq):
        self.interp.record(seq)
        seq.opaque = True
        return None

    def instance_attr(self, instance: Instance, name, node):
        if not self.is_keras_class(instance.cls):
            return UNKNOWN
        if name == "build":
            return ExternalCall(lambda a, k, n: self._build_instance(instance, _shape_argument(a, k), n))
        if name == "add_weight":
            return ExternalCall(lambda a, k, n: self._weight(a, k))
        if name in MODEL_METHODS:
            return ExternalCall(lambda a, k, n: None)
        return UNKNOWN

    def super_attr(self, proxy, name):
        if name in ("__init__", "build"):
            return ExternalCall(lambda a, k, n: None)
        return UNKNOWN

    def binary(self, op_type, left, right, node):
        if isinstance(left, Tensor) or isinstance(right, Tensor):
            name = {cst.Add: "add", cst.Subtract: "subtract", cst.Multiply: "multiply"}.get(op_type)
            if isinstance(left, Tensor) and isinstance(right, Tensor):
                if name is None:
                    return Tensor(None, framework=FRAMEWORK)
                return self.apply(ops.Merge(f"ops.{name}", layer=False), {}, [left, right], node, node)
            scalar = right if isinstance(left, Tensor) else left
            tensor = left if isinstance(left, Tensor) else right
            if isinstance(scalar, (int, float)) and not isinstance(scalar, bool) and op_type in (
                    cst.Add, cst.Subtract, cst.Multiply, cst.Divide):
                return Tensor(tensor.shape, tensor.producer, framework=FRAMEWORK)
            return Tensor(None, framework=FRAMEWORK)
        dim_ops = {cst.Add: dims.add, cst.Subtract: dims.sub, cst.Multiply: dims.mul, cst.FloorDivide: dims.floordiv}
        if op_type in dim_ops and all(isinstance(v, (int, dims.Expr)) and not isinstance(v, bool)
                                      for v in (left, right)):
            result = dim_ops[op_type](left, right)
            return UNKNOWN if result is None else result
        return UNKNOWN

    def unary(self, value, node):
        if isinstance(value, Tensor):
            return Tensor(value.shape, value.producer, framework=FRAMEWORK)
        return UNKNOWN

    def subscript(self, value, index, node):
        if isinstance(value, Tensor):
            return Tensor(None, framework=FRAMEWORK)
        return UNKNOWN

    def truth(self, value):
        if isinstance(value, (KerasLayer, SequentialValue, FunctionalModel)):
            return True
        return None

    def forget(self, value):
        return Tensor(None, framework=FRAMEWORK) if isinstance(value, Tensor) else UNKNOWN


def _created_shape(style: str, args, kwargs):
    """The shape of ``np.zeros((2, 3))`` / ``np.random.rand(2, 3)`` / ``np.random.normal(size=...)``."""
    if style == "varargs":
        shape = tuple(args)
    elif style == "size":
        shape = kwargs.get("size", args[2] if len(args) > 2 else None)
    else:
        shape = args[0] if args else kwargs.get("shape")
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not shape:
        return None
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        return None
    return tuple(shape)


def _constant_reshape(values, shape):
    """``tf.reshape([0.1, 0.2, 0.3], [1, 1, 1, 3])``: a constant of that shape when the number of
    values is known and fits; None (not modelled) otherwise."""
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                        for v in values):
        return None
    if not isinstance(shape, (list, tuple)) or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0
                                                      for d in shape):
        return None
    if math.prod(shape) != len(values):
        return None
    return Tensor(tuple(shape), framework=FRAMEWORK)


def _compatible(spec, shape) -> bool:
    """``shape`` provably passes an input spec of shape ``spec`` (None accepts any size, and so
    does a size declared None)."""
    if spec is None or shape is None or len(spec) != len(shape):
        return False
    return all(s is None or _is_declared_symbol(s) or (isinstance(s, int) and isinstance(d, int) and s == d)
               for s, d in zip(spec, shape))


def _graph_nodes(output: Tensor) -> list:
    """The layer applications that produced ``output``, inputs first (a walk back over sources)."""
    order, seen = [], set()
    stack = [(output.producer, False)] if output is not None and output.producer is not None else []
    while stack:
        node, done = stack.pop()
        if node is None:
            continue
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((source, False) for source in reversed(node.sources) if source is not None)
    return order


def _is_declared_symbol(d) -> bool:
    return isinstance(d, dims.Expr) and d.op == "sym" and d.declared_none


def _bound_output(spec, shape, output):
    """The output of a built model called on ``shape``: its sizes declared None take the sizes
    of that call (which may be unknown)."""
    if output is None:
        return None
    values = {s.name: d for s, d in zip(spec, shape) if _is_declared_symbol(s)}
    if not values:
        return output
    return tuple(dims.substitute(d, values) for d in output)


def _keras1_kernel_args(name, args, kwargs) -> bool:
    """``Convolution2D(32, 3, 3)``: the Keras 1 ``(nb_filter, nb_row, nb_col)`` call.

    ``Conv2D(64, 3, 2)`` is also how Keras 2 code spells a positional stride, so an integer third
    argument alone is not enough: it must repeat the kernel size (a square Keras 1 kernel), or the
    call must use a Keras 1 name or keyword.  ``(k, 1, 1)`` means the same in every version."""
    if not isinstance(args, list) or len(args) < 3:
        return False
    kernel, third = args[1], args[2]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (kernel, third)):
        return False
    if kernel == 1 and third == 1:
        return False
    keras1 = "Convolution" in name or (isinstance(kwargs, dict) and bool(LEGACY_KWARGS & set(kwargs)))
    return kernel == third or keras1


def _shape_argument(args, kwargs):
    """``build((None, 28, 28, 1))`` / ``build(input_shape=...)``: the argument list with the shape first."""
    if isinstance(args, list) and args:
        return args
    if isinstance(kwargs, dict) and "input_shape" in kwargs:
        return [kwargs["input_shape"]]
    return None


def _module_assignments(module: cst.Module) -> dict:
    """id(call) -> name for module-level ``name = Call(...)``: what a Sequential is called."""
    found = {}
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1 \
                        and isinstance(small.targets[0].target, cst.Name) and isinstance(small.value, cst.Call):
                    found[id(small.value)] = small.targets[0].target.value
    return found


def _star_imports(module: cst.Module) -> dict:
    """``from keras.layers import *`` binds every layer name Keras exports there."""

    bound = {}
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if not isinstance(small, cst.ImportFrom) or not isinstance(small.names, cst.ImportStar) \
                    or small.relative or small.module is None:
                continue
            qual = dotted_name(small.module)
            path = keras_path(qual) if qual else None
            if path is None:
                continue
            if path == "layers":
                names = list(LAYERS) + list(MERGE_FUNCTIONS) + ["Input", "InputLayer", "Layer"]
            elif path == "models":
                names = ["Sequential", "Model"]
            elif path == "":
                names = ["layers", "models", "Sequential", "Model", "Input", "backend"]
            else:
                continue
            bound.update({name: ModuleRef(f"{qual}.{name}") for name in names})
    return bound


def _has_tensor(args, kwargs) -> bool:
    values = (list(args) if isinstance(args, list) else []) \
        + (list(kwargs.values()) if isinstance(kwargs, dict) else [])
    for value in values:
        if isinstance(value, Tensor):
            return True
        if isinstance(value, (list, tuple)) and any(isinstance(v, Tensor) for v in value):
            return True
    return False


_CALL = re.compile(r"(\bdef\s+|\bclass\s+)?\b([A-Za-z_]\w*)\s*\(")


def _called_names(text: str) -> set:
    """Names the file calls anywhere (over-approximated: a match in a string counts too).

    A text scan of the source: a LibCST visitor over a large file costs more than parsing it,
    and erring towards "called" only makes the analysis skip a probe run."""
    return {m.group(2) for m in _CALL.finditer(text) if not m.group(1)}


def analyse(module: cst.Module, inputs: dict | None = None, text: str | None = None) -> list[Model]:
    return KerasFrontend(module, inputs, text).run()


__all__ = ["KerasFrontend", "analyse", "keras_kind", "keras_path"]
