"""PyTorch frontend: evaluates a module with torch semantics and records model graphs.

Models are found in three places: ``nn.Module`` subclasses, module-level code that calls
layers or models on tensors, and module-level ``nn.Sequential`` values.
"""

from __future__ import annotations


import libcst as cst

from shapelint.frontends import names
from shapelint.frontends.base import SPATIAL_SYMBOLS, FrameworkHooks, statement_of
from shapelint.frontends.interp import (
    BudgetExceeded, ExternalCall, Function, Instance, ModuleRef, StatefulValue, SuperProxy, UserClass,
)
from shapelint.frontends.torch_losses import NOT_LOSS, Criterion, TorchLosses
from shapelint.ir import UNKNOWN, Model, Tensor
from shapelint.shapes import dims
from shapelint.shapes import torch_ops as ops
from shapelint.shapes.common import Concat, Elementwise, InplaceElementwise
from shapelint.shapes.ops import REQUIRED, OpSpec, bind_params

LAYERS: dict[str, OpSpec] = {}
for _n in (1, 2, 3):
    LAYERS[f"Conv{_n}d"] = ops.Conv(_n)
    LAYERS[f"ConvTranspose{_n}d"] = ops.Conv(_n, transposed=True)
    LAYERS[f"LazyConv{_n}d"] = ops.Conv(_n, lazy=True)
    LAYERS[f"MaxPool{_n}d"] = ops.Pool(_n, "max")
    LAYERS[f"AvgPool{_n}d"] = ops.Pool(_n, "avg")
    LAYERS[f"AdaptiveAvgPool{_n}d"] = ops.AdaptivePool(_n, "avg")
    LAYERS[f"AdaptiveMaxPool{_n}d"] = ops.AdaptivePool(_n, "max")
    LAYERS[f"BatchNorm{_n}d"] = ops.BatchNorm(_n)
LAYERS.update({
    "GroupNorm": ops.GroupNorm(), "LayerNorm": ops.LayerNorm(), "Linear": ops.Linear(),
    "LazyLinear": ops.Linear(lazy=True), "Embedding": ops.Embedding(),
    "LSTM": ops.RNN("LSTM"), "GRU": ops.RNN("GRU"), "RNN": ops.RNN("RNN"),
    "TransformerEncoderLayer": ops.TransformerEncoderLayer(), "TransformerEncoder": ops.TransformerEncoder(),
    "Flatten": ops.Flatten("Flatten", 1, functional=False),
    "Upsample": ops.Upsample(), "ZeroPad2d": ops.Pad("ZeroPad2d", 2), "ZeroPad1d": ops.Pad("ZeroPad1d", 1),
    "ConstantPad2d": ops.Pad("ConstantPad2d", 2, constant=True),
    "ReflectionPad2d": ops.Pad("ReflectionPad2d", 2), "ReplicationPad2d": ops.Pad("ReplicationPad2d", 2),
})
for _name in ("ReLU ReLU6 LeakyReLU PReLU ELU SELU CELU GELU SiLU Mish Sigmoid Tanh Hardtanh Hardswish "
              "Hardsigmoid Softmax Softmax2d LogSoftmax Softplus Softsign Tanhshrink Threshold Dropout "
              "Dropout1d Dropout2d Dropout3d AlphaDropout FeatureAlphaDropout Identity LocalResponseNorm "
              "InstanceNorm1d InstanceNorm2d InstanceNorm3d ChannelShuffle").split():
    LAYERS[_name] = ops.Identity(_name)
    LAYERS[_name].signature = None  # any arguments

FUNCTIONS: dict[str, OpSpec] = {}
for _n in (1, 2, 3):
    FUNCTIONS[f"conv{_n}d"] = ops.FunctionalConv(_n)
    FUNCTIONS[f"max_pool{_n}d"] = ops.Pool(_n, "max", functional=True)
    FUNCTIONS[f"avg_pool{_n}d"] = ops.Pool(_n, "avg", functional=True)
    FUNCTIONS[f"adaptive_avg_pool{_n}d"] = ops.AdaptivePool(_n, "avg", functional=True)
    FUNCTIONS[f"adaptive_max_pool{_n}d"] = ops.AdaptivePool(_n, "max", functional=True)
FUNCTIONS.update({
    "linear": ops.FunctionalLinear(), "interpolate": ops.Upsample(functional=True),
    "upsample": ops.Upsample(functional=True), "flatten": ops.Flatten("torch.flatten", 0, functional=True),
    "reshape": ops.Reshape("torch.reshape"), "pad": ops.FunctionalPad(),
})
for _name in ("relu relu6 relu_ leaky_relu elu selu celu gelu silu mish sigmoid tanh hardtanh hardswish "
              "hardsigmoid softmax log_softmax softplus dropout dropout1d dropout2d dropout3d alpha_dropout "
              "local_response_norm normalize instance_norm group_norm layer_norm batch_norm abs exp "
              "log sqrt clamp neg").split():
    FUNCTIONS[_name] = ops.Identity(f"F.{_name}", functional=True)
    FUNCTIONS[_name].signature = (("input", REQUIRED),)

ELEMENTWISE = {"add": "torch.add", "sub": "torch.sub", "mul": "torch.mul", "div": "torch.div",
               "maximum": "torch.maximum", "minimum": "torch.minimum"}
CREATORS = {"randn", "rand", "zeros", "ones", "empty", "full", "randint", "normal"}
LIKE = {"zeros_like", "ones_like", "randn_like", "rand_like", "empty_like", "full_like"}
SAME_SHAPE_METHODS = {"contiguous", "float", "double", "half", "bfloat16", "to", "cuda", "cpu", "detach",
                      "clone", "relu", "relu_", "sigmoid", "tanh", "softmax", "log_softmax", "type_as",
                      "requires_grad_", "abs", "exp", "log", "sqrt", "clamp", "neg", "long", "int", "bool",
                      "pin_memory", "requires_grad", "type", "sigmoid_", "tanh_", "clamp_", "mul_", "add_",
                      "div_", "sub_", "fill_", "zero_", "normal_", "uniform_", "cpu"}
# In-place methods that change the receiver's shape: the out-of-place method computing it, or None.
INPLACE_RESHAPES = {"unsqueeze_": "unsqueeze", "squeeze_": "squeeze", "transpose_": "transpose", "t_": "t",
                    "swapdims_": "transpose", "swapaxes_": "transpose", "resize_": None, "resize_as_": None,
                    "set_": None, "as_strided_": None}
MODULE_SELF_METHODS = {"to", "cuda", "cpu", "eval", "train", "float", "double", "half", "requires_grad_",
                       "apply", "share_memory", "bfloat16", "type", "zero_grad"}
# Public attributes every torch.nn.Module has (dir(nn.Module()) without the private ones).
NN_MODULE_ATTRS = frozenset((
    "T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda double "
    "dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter get_submodule half "
    "ipu load_state_dict modules mtia named_buffers named_children named_modules named_parameters parameters "
    "register_backward_hook register_buffer register_forward_hook register_forward_pre_hook "
    "register_full_backward_hook register_full_backward_pre_hook register_load_state_dict_post_hook "
    "register_load_state_dict_pre_hook register_module register_parameter register_state_dict_post_hook "
    "register_state_dict_pre_hook requires_grad_ set_extra_state set_submodule share_memory state_dict to "
    "to_empty train training type xpu zero_grad").split())
MAX_FACTORIES = 6
# Functions tried as factories per file: each try builds a model, through whatever the file imports.
MAX_FACTORY_PROBES = MAX_FACTORIES + 2


class LayerValue:
    """A constructed torch.nn layer."""

    def __init__(self, op: OpSpec, params: dict, site):
        self.op = op
        self.params = params
        self.site = site


class Container(StatefulValue):
    """nn.Sequential / nn.ModuleList / nn.ModuleDict: ordered children."""

    def __init__(self, kind: str, items: dict, site):
        self.kind = kind
        self.items = items  # name -> module value, in registration order
        self.site = site
        self.opaque = False

    def snapshot(self):
        return (dict(self.items), self.opaque)

    def restore(self, state):
        self.items, self.opaque = dict(state[0]), state[1]

    def merge_states(self, left, right):
        same = list(left[0]) == list(right[0]) and all(left[0][k] is right[0][k] for k in left[0])
        return (dict(left[0]), left[1] or right[1] or not same)

    def forget_state(self, state):
        return (dict(state[0]), True)

    def values(self):
        return None if self.opaque else list(self.items.values())


def _register(items: dict, value):
    items[str(len(items))] = value


def _dim_value(d):
    return UNKNOWN if d is None else d


def _value_dim(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, int) or isinstance(v, dims.Expr):
        return v
    return None


def _shape_from_args(args, kwargs):
    """torch.randn(1, 3, 32, 32) / torch.randn((1, 3, 32, 32)) / size=(...)."""
    if args is UNKNOWN or kwargs is UNKNOWN:
        return None
    size = kwargs.get("size")
    if size is None:
        if len(args) == 1 and isinstance(args[0], (tuple, list)):
            size = args[0]
        else:
            size = args
    if not isinstance(size, (tuple, list)):
        return None
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in size):
        return None
    return tuple(size)


class TorchFrontend(FrameworkHooks):
    framework = "torch"
    symbolic_batch = dims.symbol("N")

    def __init__(self, module: cst.Module, inputs: dict | None = None):
        super().__init__(module, inputs)
        self.modelled_classes: set = set()
        self.modelled_calls: set = set()  # (id(instance), input shape) of script-level model calls
        self.in_user_call = 0
        self.components: set = set()  # ids of classes instantiated inside another class's methods
        self.losses = TorchLosses(self)  # loss criteria against the model's output (torch_losses.py)

    # ----- model discovery ------------------------------------------------------------------

    def run(self) -> list[Model]:
        script = Model("<module>", "torch", self.module, input_source="script")
        self.current = script
        try:
            self.interp.run_module()
        except BudgetExceeded:
            pass
        self.current = None
        module_classes = [c for c in self.interp.classes if self.is_module_class(c)]
        standalone = []
        for cls in module_classes:
            if id(cls) not in self.modelled_classes:
                standalone.append((cls, self.analyse_class(cls)))
        # A class built inside another class's methods is analysed there, with the arguments it
        # is given; on its own (defaults, unknown arguments) it only adds noise.
        self.analyse_factories()
        for cls, model in standalone:
            if id(cls) in self.components and model.input_source == "symbolic":
                self.models.remove(model)
        for model in list(self.models):
            self.explain_feature_mismatches(model)
        for name, value in list(self.interp.globals.items()):
            if isinstance(value, Container) and value.kind == "Sequential" and not getattr(value, "called", False):
                self.analyse_sequential(name, value)
        if script.nodes:
            self.models.insert(0, script)
        return [m for m in self.models if m.nodes]

    def is_module_class(self, cls: UserClass) -> bool:
        for base in cls.external_bases():
            if isinstance(base, ModuleRef) and names.torch_layer(base.qualname) in ("Module", "Sequential",
                                                                                    "ModuleList", "ModuleDict"):
                return True
        return False

    def analyse_class(self, cls: UserClass):
        shape, source = self.declared_input(cls.name, cls.node)

        def call(tensor):
            instance = self.interp.instantiate(cls, [], {}, cls.node)
            self.call_module(instance, [tensor], {}, cls.node)

        if shape is None:
            shape = self.discover_input(cls.name, cls.node, call)
            source = "symbolic"
        model = Model(cls.name, "torch", cls.node, input=shape, input_source=source)
        self.run_model(model, lambda: call(Tensor(shape)))
        self.models.append(model)
        return model

    def explain_feature_mismatches(self, model: Model):
        """For a Linear/reshape that rejects a concrete input, say which input sizes it accepts:
        the same class analysed again with symbolic spatial sizes and solved."""
        from shapelint.shapes.solve import describe_accepted, solve

        shape = model.input
        failing = [n for n in model.nodes if not n.speculative and any(p.kind == "features" for p in n.problems)]
        if not failing or not shape or len(shape) < 3 or not all(isinstance(d, int) for d in shape[2:]):
            return
        classes = [c for c in self.interp.classes if c.node is model.site]
        if len(classes) != 1:
            return
        spatial = SPATIAL_SYMBOLS.get(len(shape) - 2)
        if not spatial:
            return
        twin = Model(model.name, "torch", model.site, input_source="symbolic",
                     input=(dims.symbol("N"), shape[1]) + tuple(dims.symbol(s) for s in spatial))

        def call():
            instance = self.interp.instantiate(classes[0], [], {}, classes[0].node)
            self.call_module(instance, [Tensor(twin.input)], {}, classes[0].node)

        self.run_model(twin, call)
        solution = solve(twin)
        if solution is None or any(v is None for v in solution.accepted.values()):
            return
        if not any(n.def_site is f.def_site for f in failing for n in twin.nodes):
            return  # the twin did not reach the failing layer the same way: say nothing
        sizes = {describe_accepted(v) for v in solution.accepted.values()}
        accepted = sizes.pop() if len(sizes) == 1 else "; ".join(
            f"{s} in {describe_accepted(v)}" for s, v in solution.accepted.items())
        given = "x".join(str(d) for d in shape[2:])
        for node in failing:
            node.hint = (f"it holds for inputs of {accepted} px" if accepted != "none"
                         else "no input size up to 4096 gives that") + f"; this input is {given}"

    def analyse_factories(self):
        """Module-level functions callable with no arguments that return a model (torchvision's
        ``resnet18()``): each is analysed as a model named after the function."""
        done = probes = 0
        for name, func in list(self.interp.globals.items()):
            if done >= MAX_FACTORIES or probes >= MAX_FACTORY_PROBES or not isinstance(func, Function) \
                    or func.owner is not None or name.startswith("_") or not _callable_bare(func):
                continue
            probes += 1
            probe = Model(name, "torch", func.node)
            built = []
            self.run_model(probe, lambda: built.append(self.interp.call_function(func, [], {}, func.node)))
            value = built[0] if built else None
            if not (isinstance(value, Instance) and self.is_module_class(value.cls)) \
                    or id(value.cls) in self.modelled_classes:
                continue  # not a model, or one the file already runs on a real input
            done += 1
            shape, source = self.declared_input(name, func.node)

            def call(tensor, func=func):
                instance = self.interp.call_function(func, [], {}, func.node)
                if isinstance(instance, Instance):
                    self.call_module(instance, [tensor], {}, func.node)

            if shape is None:
                shape = self.discover_input(name, func.node, call)
                source = "symbolic"
            model = Model(name, "torch", func.node, input=shape, input_source=source)
            self.run_model(model, lambda: call(Tensor(shape)))
            self.models.append(model)

    def analyse_sequential(self, name: str, container: Container):
        site = container.site
        shape, source = self.declared_input(name, statement_of(self.module, site))

        def call(tensor):
            self.call_container(container, tensor, site)

        if shape is None:
            shape = self.discover_input(name, site, call)
            source = "symbolic"
        model = Model(name, "torch", site, input=shape, input_source=source)
        self.run_model(model, lambda: call(Tensor(shape)))
        self.models.append(model)

    # ----- graph recording ------------------------------------------------------------------

    def construct(self, op: OpSpec, args, kwargs, site) -> LayerValue:
        params = bind_params(op.signature, args, kwargs)
        self.record_problems(op, params, op.check_params(params), site)
        return LayerValue(op, params, site)

    # ----- calls ------------------------------------------------------------------------------

    def call(self, func, args, kwargs, node):
        if isinstance(func, ModuleRef):
            return self.call_qualified(names.canonical(func.qualname), args, kwargs, node)
        if isinstance(func, LayerValue):
            return self.call_layer(func, args, node)
        if isinstance(func, Container):
            if func.kind == "Sequential" and args is not UNKNOWN and len(args) == 1:
                func.called = True
                return self.call_container(func, args[0], node)
            return UNKNOWN
        if isinstance(func, Instance):
            return self.call_module(func, args, kwargs, node)
        if isinstance(func, TensorMethod):
            return self.call_tensor_method(func, args, kwargs, node)
        if isinstance(func, Criterion):
            return self.losses.call(func, args, kwargs, node)
        return UNKNOWN

    def call_layer(self, layer: LayerValue, args, node):
        if args is UNKNOWN or len(args) != 1 or not isinstance(args[0], Tensor):
            return Tensor(None) if args is not UNKNOWN and args and isinstance(args[0], Tensor) else UNKNOWN
        out = self.apply(layer.op, layer.params, [args[0]], node, layer.site)
        if isinstance(layer.op, ops.RNN):
            return (out, UNKNOWN)  # (output, h_n) / (output, (h_n, c_n)): only the output is modelled
        return out

    def call_container(self, container: Container, x, node):
        items = container.values()
        if items is None:
            return Tensor(None) if isinstance(x, Tensor) else UNKNOWN
        # The entries run as parts of this container, not as models called from the script.
        self.in_user_call += 1
        try:
            for item in items:
                if x is UNKNOWN:
                    return UNKNOWN
                result = self.interp.call(item, [x], {}, getattr(item, "site", node))
                # an entry we cannot resolve (a layer from another file) still passes a tensor on:
                # its shape is unknown, but the layers after it are still applied and recorded
                x = Tensor(None) if result is UNKNOWN and isinstance(x, Tensor) else result
        finally:
            self.in_user_call -= 1
        return x

    def call_module(self, instance: Instance, args, kwargs, node):
        forward = instance.cls.lookup("forward")
        top_level = self.current is not None and self.current.name == "<module>" and self.in_user_call == 0
        tensor = args[0] if isinstance(args, list) and args and isinstance(args[0], Tensor) else None
        if top_level and tensor is not None:
            # A model called at module level on a tensor: that call is the model's input.
            # Each instance is a model per input shape: `Net(3)(rgb)` and `Net(1)(gray)` are both checked,
            # a training loop calling the same instance on the same batch shape is analysed once.
            cls = instance.cls
            self.modelled_classes.add(id(cls))
            shape, source = self.declared_input(cls.name, cls.node)
            if shape is not None:
                tensor = Tensor(shape)
            key = (id(instance), dims.format_shape(tensor.shape))
            if key not in self.modelled_calls:
                self.modelled_calls.add(key)
                self.interp.keep(instance)  # keeps id(instance) unique for this run
                model = Model(cls.name, "torch", cls.node, input=tensor.shape,
                              input_source=source or "call in file")
                if source is None and getattr(tensor, "origin", None) is not None:
                    model.data = (tensor.origin, tensor.shape)
                self.models.append(model)
                target = model
            else:
                target = Model(cls.name, "torch", cls.node)  # this very call was analysed already: discard
            saved = self.current
            self.current = target
            self.in_user_call += 1
            try:
                result = self._invoke_forward(instance, forward, [tensor] + args[1:], kwargs, node)
            finally:
                self.in_user_call -= 1
                self.current = saved
            return result
        return self._invoke_forward(instance, forward, args, kwargs, node)

    def _invoke_forward(self, instance, forward, args, kwargs, node):
        if isinstance(forward, Function):
            return self.interp.call_function(forward, [instance] + (args if args is not UNKNOWN else []),
                                             kwargs if args is not UNKNOWN else UNKNOWN, node)
        children = instance.attrs.get("__children__")
        if isinstance(children, Container) and self.is_sequential(instance) and args is not UNKNOWN and args:
            return self.call_container(children, args[0], node)
        call = instance.cls.lookup("__call__")
        if isinstance(call, Function):
            return self.interp.call_function(call, [instance] + (args if args is not UNKNOWN else []), kwargs, node)
        return UNKNOWN

    def is_sequential(self, instance: Instance) -> bool:
        return any(isinstance(b, ModuleRef) and names.torch_layer(b.qualname) == "Sequential"
                   for b in instance.cls.external_bases())

    def call_qualified(self, qual, args, kwargs, node):
        loss = self.losses.qualified(qual, args, kwargs, node)
        if loss is not NOT_LOSS:
            return loss
        layer = names.torch_layer(qual)
        if layer is not None:
            if layer in LAYERS:
                return self.construct(LAYERS[layer], args, kwargs, node)
            if layer in ("Sequential", "ModuleList", "ModuleDict"):
                return self.make_container(layer, args, kwargs, node)
            if layer == "Parameter":
                return args[0] if args is not UNKNOWN and args and isinstance(args[0], Tensor) else UNKNOWN
            return UNKNOWN
        if qual in ("torch.autograd.Variable", "torch.autograd.variable.Variable"):
            # Legacy wrapper: Variable(tensor) is the tensor itself since torch 0.4.
            return args[0] if args is not UNKNOWN and args and isinstance(args[0], Tensor) else UNKNOWN
        func = names.torch_function(qual)
        if func is None:
            return UNKNOWN
        if args is UNKNOWN or kwargs is UNKNOWN:
            return UNKNOWN
        if qual.startswith("torch.") and qual.count(".") == 1:
            if func in CREATORS:
                if func in ("full", "randint", "normal"):
                    return self._creator_with_extra(func, args, kwargs)
                return Tensor(_shape_from_args(args, kwargs))
            if func in LIKE:
                return Tensor(args[0].shape) if args and isinstance(args[0], Tensor) else UNKNOWN
            if func in ("cat", "concat", "concatenate"):
                return self.concat(args, kwargs, node)
            if func in ELEMENTWISE and len(args) >= 2:
                return self.elementwise(ELEMENTWISE[func], args[0], args[1], node)
            if func == "stack":
                return self.stack(args, kwargs)
            if func in ("unsqueeze", "squeeze", "permute", "transpose", "mean", "sum", "amax", "max", "min",
                        "chunk", "split"):
                if args and isinstance(args[0], Tensor):
                    return self.call_tensor_method(TensorMethod(args[0], func), args[1:], kwargs, node)
                return UNKNOWN
        if func in FUNCTIONS:
            op = FUNCTIONS[func]
            if op.name == "torch.reshape":
                if len(args) >= 2 and isinstance(args[0], Tensor):
                    return self.reshape(op, args[0], args[1], node)
                return UNKNOWN
            params = bind_params(op.signature, args, kwargs)
            tensors = [v for v in (params.get("input"), params.get("weight")) if isinstance(v, Tensor)]
            if not isinstance(params.get("input"), Tensor):
                return UNKNOWN
            if "weight" in params and not isinstance(params.get("weight"), Tensor):
                return Tensor(None)
            return self.apply(op, params, tensors, node, node)
        if qual.startswith("torch.nn.functional.") or any(isinstance(a, Tensor) for a in args):
            return Tensor(None) if any(isinstance(a, Tensor) for a in args) else UNKNOWN
        return UNKNOWN

    def _creator_with_extra(self, func, args, kwargs):
        if func == "full":
            return Tensor(_shape_from_args(args[:1], {}) if args else None)
        if func == "randint":
            size = kwargs.get("size") if "size" in kwargs else (args[-1] if args else None)
            return Tensor(_shape_from_args([size], {}) if isinstance(size, (tuple, list)) else None)
        return Tensor(None)

    def make_container(self, kind, args, kwargs, node):
        items: dict = {}
        container = Container(kind, items, node)
        if args is UNKNOWN or kwargs is UNKNOWN:
            container.opaque = True
            return container
        if kind == "Sequential":
            if len(args) == 1 and isinstance(args[0], dict):
                items.update({str(k): v for k, v in args[0].items()})
            else:
                for value in args:
                    _register(items, value)
        elif kind == "ModuleList":
            source = args[0] if args else kwargs.get("modules", [])
            values = self.interp.iterate(source) if source is not None else []
            if values is None:
                container.opaque = True
            else:
                for value in values:
                    _register(items, value)
        else:
            source = args[0] if args else kwargs.get("modules", {})
            if isinstance(source, dict):
                items.update({str(k): v for k, v in source.items()})
            elif source is not None:
                pairs = self.interp.iterate(source)
                if pairs is None:
                    container.opaque = True
                else:
                    for pair in pairs:
                        if isinstance(pair, (tuple, list)) and len(pair) == 2:
                            items[str(pair[0])] = pair[1]
                        else:
                            container.opaque = True
        return container

    def container_method(self, container: Container, name: str, args):
        """``layers.append(m)`` / ``extend`` / ``add_module`` on a Sequential or ModuleList."""
        self.interp.record(container)
        if args is UNKNOWN:
            container.opaque = True
            return None
        if name == "append" and len(args) == 1:
            _register(container.items, args[0])
        elif name in ("add_module", "add") and len(args) == 2 and isinstance(args[0], str):
            container.items[args[0]] = args[1]
        elif name == "extend" and len(args) == 1:
            values = self.interp.iterate(args[0])
            if values is None:
                container.opaque = True
            else:
                for value in values:
                    _register(container.items, value)
        else:
            container.opaque = True
        return container if name == "append" else None

    def concat(self, args, kwargs, node):
        tensors = self.interp.iterate(args[0]) if args else None
        dim = args[1] if len(args) > 1 else kwargs.get("dim", kwargs.get("axis", 0))
        if tensors is None or not tensors or not all(isinstance(t, Tensor) for t in tensors):
            return Tensor(None) if tensors and any(isinstance(t, Tensor) for t in tensors) else UNKNOWN
        if dim is UNKNOWN:
            return Tensor(None)
        return self.apply(Concat("torch.cat"), {"dim": dim}, tensors, node, node)

    def elementwise(self, name, left, right, node):
        if isinstance(left, Tensor) and isinstance(right, Tensor):
            return self.apply(Elementwise(name), {}, [left, right], node, node)
        if isinstance(left, Tensor) and (isinstance(right, (int, float)) and not isinstance(right, bool)):
            return Tensor(left.shape, left.producer)
        if isinstance(right, Tensor) and (isinstance(left, (int, float)) and not isinstance(left, bool)):
            return Tensor(right.shape, right.producer)
        tensor = left if isinstance(left, Tensor) else right
        return Tensor(None) if isinstance(tensor, Tensor) else UNKNOWN

    def stack(self, args, kwargs):
        """torch.stack(tensors, dim): equal shapes, a new axis of len(tensors) at ``dim``."""
        tensors = self.interp.iterate(args[0]) if args else None
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        if not tensors or not all(isinstance(t, Tensor) and t.shape is not None for t in tensors):
            return Tensor(None) if tensors and any(isinstance(t, Tensor) for t in tensors) else UNKNOWN
        first = tensors[0].shape
        if not isinstance(dim, int) or isinstance(dim, bool) or any(len(t.shape) != len(first) for t in tensors):
            return Tensor(None)
        axis = dim + len(first) + 1 if dim < 0 else dim
        if not 0 <= axis <= len(first):
            return Tensor(None)
        merged = tuple(d if all(dims.same(d, t.shape[i]) for t in tensors) else None for i, d in enumerate(first))
        return Tensor(merged[:axis] + (len(tensors),) + merged[axis:])

    def split(self, name, shape, args, kwargs):
        """x.chunk(n, dim) / x.split(size, dim): a tuple of tensors when the sizes are known."""
        amount = args[0]
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        if not isinstance(dim, int) or isinstance(dim, bool) or not -len(shape) <= dim < len(shape):
            return UNKNOWN
        axis = dim % len(shape)
        size = shape[axis]
        if not isinstance(size, int) or not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            return UNKNOWN
        step = -(-size // amount) if name == "chunk" else amount
        if step <= 0:
            return UNKNOWN
        sizes = [step] * (size // step) + ([size % step] if size % step else [])
        return tuple(Tensor(tuple(shape[:axis]) + (part,) + tuple(shape[axis + 1:])) for part in sizes)

    def reshape(self, op, tensor: Tensor, target, node):
        if isinstance(target, (tuple, list)):
            target = tuple(target)
        else:
            return Tensor(None)
        if any(v is UNKNOWN for v in target):
            converted = tuple(v if v is not UNKNOWN else None for v in target)
        else:
            converted = target
        if not all(v is None or isinstance(v, (int, dims.Expr)) and not isinstance(v, bool) for v in converted):
            return Tensor(None)
        return self.apply(op, {"shape": converted}, [tensor], node, node)

    def call_tensor_method(self, method, args, kwargs, node):
        tensor, name = method.tensor, method.name
        shape = tensor.shape
        if name in INPLACE_RESHAPES:
            # x.unsqueeze_(0) changes x itself: every holder of this tensor sees the new shape.
            base = INPLACE_RESHAPES[name]
            result = self.call_tensor_method(TensorMethod(tensor, base), args, kwargs, node) if base else None
            tensor.shape = result.shape if isinstance(result, Tensor) else None
            return tensor
        if args is UNKNOWN or kwargs is UNKNOWN:
            return Tensor(None) if name not in ("size", "dim", "numel") else UNKNOWN
        if name == "size":
            if shape is None:
                return UNKNOWN
            if not args and "dim" not in kwargs:
                return tuple(_dim_value(d) for d in shape)
            index = args[0] if args else kwargs.get("dim")
            if isinstance(index, int) and -len(shape) <= index < len(shape):
                return _dim_value(shape[index])
            return UNKNOWN
        if name in ("dim", "ndimension"):
            return len(shape) if shape is not None else UNKNOWN
        if name == "numel":
            total = dims.product(shape) if shape is not None else None
            return total if isinstance(total, int) else UNKNOWN
        if name in ("view", "reshape"):
            target = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)
            return self.reshape(ops.Reshape(f"Tensor.{name}"), tensor, target, node)
        if name == "flatten":
            op = FUNCTIONS["flatten"]
            params = bind_params(op.signature, [tensor] + list(args), kwargs)
            return self.apply(op, params, [tensor], node, node)
        if name.endswith("_") and name[:-1] in ELEMENTWISE and args and isinstance(args[0], Tensor):
            return self.apply(InplaceElementwise(f"Tensor.{name}"), {}, [tensor, args[0]], node, node)
        if name in ELEMENTWISE and args:
            return self.elementwise(ELEMENTWISE[name], tensor, args[0], node)
        if name == "expand_as" and len(args) == 1 and isinstance(args[0], Tensor):
            return Tensor(args[0].shape)
        if name in ("chunk", "split") and shape is not None and args:
            return self.split(name, shape, args, kwargs)
        if name in SAME_SHAPE_METHODS:
            return Tensor(shape, tensor.producer)
        if shape is None:
            return Tensor(None)
        if name == "unsqueeze" and args and isinstance(args[0], int):
            axis = args[0] if args[0] >= 0 else args[0] + len(shape) + 1
            if 0 <= axis <= len(shape):
                return Tensor(tuple(shape[:axis]) + (1,) + tuple(shape[axis:]), tensor.producer)
        if name == "squeeze":
            if not args:
                if all(isinstance(d, int) for d in shape):
                    return Tensor(tuple(d for d in shape if d != 1), tensor.producer)
            elif isinstance(args[0], int) and -len(shape) <= args[0] < len(shape):
                axis = args[0] % len(shape)
                if shape[axis] == 1:
                    return Tensor(tuple(shape[:axis]) + tuple(shape[axis + 1:]), tensor.producer)
                if isinstance(shape[axis], int):
                    return Tensor(shape, tensor.producer)
        if name == "expand":
            sizes = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
            if len(sizes) >= len(shape) and all(isinstance(v, int) and not isinstance(v, bool) or v is UNKNOWN
                                                or isinstance(v, dims.Expr) for v in sizes):
                lead = len(sizes) - len(shape)
                out = []
                for i, v in enumerate(sizes):
                    if isinstance(v, int) and v == -1:
                        out.append(shape[i - lead] if i >= lead else None)
                    else:
                        out.append(None if v is UNKNOWN else v)
                return Tensor(tuple(out), tensor.producer)
            return Tensor(None)
        if name == "t" and not args and len(shape) <= 2:
            return Tensor(tuple(reversed(shape)), tensor.producer)
        if name == "permute":
            order = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
            if sorted(o % len(shape) if isinstance(o, int) else -1 for o in order) == list(range(len(shape))):
                return Tensor(tuple(shape[o] for o in order), tensor.producer)
        if name == "transpose" and len(args) == 2 and all(isinstance(a, int) for a in args):
            a, b = (args[0] % len(shape), args[1] % len(shape)) if shape else (0, 0)
            if shape:
                out = list(shape)
                out[a], out[b] = out[b], out[a]
                return Tensor(tuple(out), tensor.producer)
        if name in ("max", "min") and (args or "dim" in kwargs):
            dim = args[0] if args else kwargs.get("dim")
            keep = kwargs.get("keepdim", args[1] if len(args) > 1 else False)
            if isinstance(dim, int) and not isinstance(dim, bool) and -len(shape) <= dim < len(shape) \
                    and isinstance(keep, bool):
                axis = dim % len(shape)
                out = tuple(1 if i == axis else d for i, d in enumerate(shape) if keep or i != axis)
                return NamedTensors((Tensor(out), Tensor(out)), ("values", "indices"))
            return UNKNOWN  # x.max(other) is elementwise; an unknown dim could be either
        if name in ("mean", "sum", "amax", "amin") and (args or "dim" in kwargs):
            axes = args[0] if args else kwargs.get("dim")
            keep = kwargs.get("keepdim", args[1] if len(args) > 1 else False)
            axes = axes if isinstance(axes, (tuple, list)) else (axes,)
            if all(isinstance(a, int) and -len(shape) <= a < len(shape) for a in axes) and isinstance(keep, bool):
                axes = {a % len(shape) for a in axes}
                out = [(1 if i in axes else d) for i, d in enumerate(shape) if keep or i not in axes]
                return Tensor(tuple(out), tensor.producer)
        return Tensor(None)

    # ----- interpreter hooks -------------------------------------------------------------------

    def attr(self, owner, name, node):
        if isinstance(owner, NamedTensors):
            return owner[owner.fields.index(name)] if name in owner.fields else UNKNOWN
        if isinstance(owner, Tensor):
            if name == "shape":
                return tuple(_dim_value(d) for d in owner.shape) if owner.shape is not None else UNKNOWN
            if name == "ndim":
                return len(owner.shape) if owner.shape is not None else UNKNOWN
            if name in ("T", "data", "grad"):
                return Tensor(None) if name == "T" else Tensor(owner.shape, owner.producer)
            return TensorMethod(owner, name)
        if isinstance(owner, Container):
            if name in ("append", "extend", "insert", "add_module", "add"):
                return ExternalCall(lambda a, k, n: self.container_method(owner, name, a))
            if name in MODULE_SELF_METHODS:
                return ExternalCall(lambda a, k, n: owner)
            return UNKNOWN
        if isinstance(owner, LayerValue):
            if name in owner.params:
                value = owner.params[name]
                if name in ("kernel_size", "stride", "padding", "dilation") and isinstance(value, int) \
                        and owner.op.name.startswith(("Conv", "ConvTranspose")):
                    return (value,) * owner.op.n
                return value
            if name in MODULE_SELF_METHODS:
                return ExternalCall(lambda a, k, n: owner)
            return UNKNOWN
        return UNKNOWN

    def instance_attr(self, instance: Instance, name, node):
        children = instance.attrs.get("__children__")
        if name in MODULE_SELF_METHODS:
            return ExternalCall(lambda a, k, n: instance)
        if name in ("add_module", "register_module", "register_buffer", "register_parameter"):
            return ExternalCall(lambda a, k, n: self._add_child(instance, a))
        if name in ("items", "values", "keys") and isinstance(children, Container):
            def listing(a, k, n, kind=name):
                values = children.values()
                if values is None:
                    return UNKNOWN
                return {"items": list(children.items.items()), "values": values, "keys": list(children.items)}[kind]
            return ExternalCall(listing)
        return UNKNOWN

    def _add_child(self, instance, args):
        """``add_module`` / ``register_buffer`` (name, value): an attribute of the instance."""
        if args is UNKNOWN or len(args) < 2 or not isinstance(args[0], str):
            self.interp.taint(instance)
            return None
        self.interp.set_attr(instance, args[0], args[1])
        return None

    def certainly_lacks(self, instance: Instance, name: str) -> bool:
        """A plain ``nn.Module`` subclass has no attribute ``name`` unless the file set it."""
        if name.startswith("_") or name in NN_MODULE_ATTRS:
            return False
        bases = instance.cls.external_bases()
        return bool(bases) and all(isinstance(b, ModuleRef) and names.canonical(b.qualname) == "torch.nn.Module"
                                   for b in bases)

    def attribute_set(self, instance: Instance, name, value):
        if name.startswith("__") or not self._is_module_value(value):
            return
        children = instance.attrs.get("__children__")
        if not isinstance(children, Container):
            children = Container("Sequential", {}, None)
            instance.attrs["__children__"] = children
        self.interp.record(children)
        children.items[name] = value

    def _is_module_value(self, value):
        return isinstance(value, (LayerValue, Container)) or (isinstance(value, Instance)
                                                               and self.is_module_class(value.cls))

    def super_attr(self, proxy: SuperProxy, name):
        if name == "__init__":
            return ExternalCall(lambda a, k, n: self._external_init(proxy.receiver, a, k, n))
        if name == "forward" and self.is_sequential(proxy.receiver):
            return ExternalCall(lambda a, k, n: self.call_container(proxy.receiver.attrs.get("__children__"),
                                                                      a[0], n) if a and a is not UNKNOWN else UNKNOWN)
        return UNKNOWN

    def _external_init(self, instance: Instance, args, kwargs, node):
        for base in instance.cls.external_bases():
            kind = names.torch_layer(base.qualname) if isinstance(base, ModuleRef) else None
            if kind in ("Sequential", "ModuleList", "ModuleDict"):
                container = self.make_container(kind, args, kwargs, node)
                existing = instance.attrs.get("__children__")
                if isinstance(existing, Container):
                    container.items = {**existing.items, **container.items}
                instance.attrs["__children__"] = container
        return None

    def instance_created(self, instance, node):
        for frame in self.interp.call_stack:
            owner = frame.func.owner if frame.func is not None else None
            if owner is not None and owner is not instance.cls:
                self.components.add(id(instance.cls))
                return

    def truth(self, value):
        if isinstance(value, (LayerValue, Container, Tensor)):
            return True if not isinstance(value, Tensor) else None
        return None

    def iterate(self, value):
        if isinstance(value, Container):
            return value.values()
        if isinstance(value, Instance):
            children = value.attrs.get("__children__")
            if isinstance(children, Container) and any(
                    isinstance(b, ModuleRef) and names.torch_layer(b.qualname) in ("Sequential", "ModuleList")
                    for b in value.cls.external_bases()):
                return children.values()
        return None

    def length(self, value):
        items = self.iterate(value)
        return len(items) if items is not None else UNKNOWN

    def set_item(self, owner, key, value):
        if isinstance(owner, Instance) and self.is_sequential(owner):
            owner = owner.attrs.get("__children__")
        if isinstance(owner, Container):
            self.interp.record(owner)
            keys = list(owner.items)
            if owner.kind == "ModuleDict" and isinstance(key, str):
                owner.items[key] = value
            elif owner.kind != "ModuleDict" and isinstance(key, int) and not isinstance(key, bool) \
                    and -len(keys) <= key < len(keys):
                owner.items[keys[key]] = value  # model.features[0] = nn.Conv2d(...): same slot, new layer
            else:
                owner.opaque = True

    def unary(self, value, node):
        if isinstance(value, dims.Expr):
            return dims.mul(value, -1) if isinstance(node.operator, cst.Minus) else UNKNOWN
        if isinstance(value, Tensor):
            return Tensor(value.shape, value.producer)
        return UNKNOWN

    def subscript(self, value, index, node):
        if isinstance(value, Container):
            items = value.values()
            if items is None:
                return UNKNOWN
            if value.kind == "ModuleDict":
                return value.items.get(index, UNKNOWN) if isinstance(index, str) else UNKNOWN
            if isinstance(index, int) and not isinstance(index, bool) and -len(items) <= index < len(items):
                return items[index]
            if isinstance(index, slice):
                sliced = Container(value.kind, {}, value.site)
                for item in items[index]:
                    _register(sliced.items, item)
                return sliced
            return UNKNOWN
        if isinstance(value, Instance):
            children = value.attrs.get("__children__")
            if isinstance(children, Container) and self.is_sequential(value):
                return self.subscript(children, index, node)
            return UNKNOWN
        if isinstance(value, Tensor):
            return self.index_tensor(value, index)
        return UNKNOWN

    def index_tensor(self, tensor: Tensor, index):
        shape = tensor.shape
        if shape is None or index is UNKNOWN:
            return Tensor(None)
        parts = index if isinstance(index, tuple) else (index,)
        out, axis = [], 0
        for part in parts:
            if part is Ellipsis or axis >= len(shape):
                return Tensor(None)
            if isinstance(part, int) and not isinstance(part, bool):
                axis += 1
            elif isinstance(part, slice):
                size = shape[axis]
                if part == slice(None):
                    out.append(size)
                elif isinstance(size, int):
                    out.append(len(range(size)[part]))
                else:
                    out.append(None)
                axis += 1
            elif part is None:
                out.append(1)
            else:
                return Tensor(None)
        return Tensor(tuple(out) + tuple(shape[axis:]))

    def augmented(self, op_type, left, right, node):
        name = {cst.Add: "add", cst.Subtract: "sub", cst.Multiply: "mul", cst.Divide: "div"}.get(op_type)
        if name is not None and isinstance(left, Tensor) and isinstance(right, Tensor):
            # x += y on a tensor is x.add_(y)
            return self.apply(InplaceElementwise(f"Tensor.{name}_"), {},
                              [left, right], node, node)
        return self.binary(op_type, left, right, node)

    def binary(self, op_type, left, right, node):
        if isinstance(left, Tensor) or isinstance(right, Tensor):
            name = {cst.Add: "add", cst.Subtract: "sub", cst.Multiply: "mul", cst.Divide: "div"}.get(op_type)
            if name is None:
                return Tensor(None)
            if isinstance(left, Tensor) and isinstance(right, Tensor):
                return self.elementwise(ELEMENTWISE[name], left, right, node)
            scalar = right if isinstance(left, Tensor) else left
            tensor = left if isinstance(left, Tensor) else right
            if isinstance(scalar, (int, float, dims.Expr)) and not isinstance(scalar, bool):
                return Tensor(tensor.shape, tensor.producer)
            return Tensor(None)
        dim_ops = {cst.Add: dims.add, cst.Subtract: dims.sub, cst.Multiply: dims.mul, cst.FloorDivide: dims.floordiv}
        if op_type in dim_ops and all(isinstance(v, (int, dims.Expr)) and not isinstance(v, bool)
                                      for v in (left, right)):
            result = dim_ops[op_type](left, right)
            return UNKNOWN if result is None else result
        if isinstance(left, tuple) and isinstance(right, tuple) and op_type is cst.Add:
            return left + right
        return UNKNOWN


class NamedTensors(tuple):
    """torch.return_types.max and friends: a tuple whose items are also fields (``.values``)."""

    def __new__(cls, items, fields):
        value = super().__new__(cls, items)
        value.fields = tuple(fields)
        return value


class TensorMethod:
    def __init__(self, tensor: Tensor, name: str):
        self.tensor = tensor
        self.name = name


def _callable_bare(func: Function) -> bool:
    """True when every parameter has a default (or is *args/**kwargs)."""
    params = func.node.params
    return all(p.default is not None for p in list(params.posonly_params) + list(params.params)
               + list(params.kwonly_params))


def analyse(module: cst.Module, inputs: dict | None = None, text: str | None = None) -> list[Model]:
    return TorchFrontend(module, inputs).run()


__all__ = ["TorchFrontend", "analyse"]
