"""Keras models at their borders: ``compile`` records the loss, ``fit`` / ``evaluate`` /
``train_on_batch`` / ``test_on_batch`` / ``predict`` / ``predict_on_batch`` (and ``validation_data``)
check the arrays they get against the model's input and, under the compiled loss, its output.

A Sequential stack whose input was never declared is built by its first ``fit`` / ``predict``
on the array's shape (batch left free), as Keras 3 does.
"""

from __future__ import annotations

from shapelint.frontends.data import Array, Origin, TfData
from shapelint.ir import UNKNOWN, Model, Node, Tensor
from shapelint.shapes import loss_ops

TARGET_METHODS = {"fit", "evaluate", "train_on_batch", "test_on_batch"}
DATA_METHODS = TARGET_METHODS | {"predict", "predict_on_batch"}


class KerasBorders:
    def __init__(self, frontend):
        self.frontend = frontend
        self.losses: dict = {}  # id(model value) -> KerasLoss | UNKNOWN
        self.failed: set = set()  # ids of models a call already failed on: the program stopped there
        self.stack = None  # the Sequential being fed, when it is one

    # ----- compile ---------------------------------------------------------------------------

    def compile(self, owner, args, kwargs):
        if args is UNKNOWN or kwargs is UNKNOWN:
            self.losses[id(owner)] = UNKNOWN
            return None
        value = kwargs.get("loss", args[1] if len(args) > 1 else None)
        loss = loss_ops.keras_loss(value)
        if self.frontend.interp.speculative and self.losses.get(id(owner)) is not loss:
            loss = UNKNOWN  # compiled on some paths only
        self.losses[id(owner)] = loss if loss is not None else UNKNOWN
        self.frontend.interp.keep(owner)
        return None

    # ----- feeding ---------------------------------------------------------------------------

    def feed(self, owner, method, args, kwargs, node, model_info):
        """``model_info()`` -> (spec Tensor shape, output Tensor, functional?, Model to record into)."""
        if args is UNKNOWN or kwargs is UNKNOWN:
            return UNKNOWN
        x = args[0] if args else kwargs.get("x")
        y = args[1] if len(args) > 1 else kwargs.get("y")
        if method.endswith("predict") or method == "predict_on_batch":
            y = None
        if isinstance(x, TfData):
            element = x.element
            x, y = (element[0], element[1]) if isinstance(element, tuple) and len(element) == 2 else (element, None)
        if id(owner) in self.failed:
            return UNKNOWN
        info = model_info(x if isinstance(x, Tensor) else None)
        if info is None:
            return UNKNOWN
        count = len(info[3].nodes) if info[3] is not None else 0
        spec, output, functional, record = info
        if record is not None and record.data is None and isinstance(x, Array) and x.origin is not None \
                and x.shape is not None:
            record.data = (x.origin, x.shape)  # ``shapes`` names where the model's data comes from
        self.stack = owner if not functional else None
        fed = self.check_data(spec, x, functional, record, node, method)
        if method in TARGET_METHODS and fed:
            self.check_targets(owner, output, y, record, node, method)
            validation = kwargs.get("validation_data") if method == "fit" else None
            if isinstance(validation, (tuple, list)) and len(validation) >= 2:
                if self.check_data(spec, validation[0], functional, record, node, "validation_data"):
                    self.check_targets(owner, output, validation[1], record, node, "validation_data")
        record_nodes = info[3].nodes if info[3] is not None else []
        if any(not n.speculative for n in record_nodes[count:]):
            self.failed.add(id(owner))  # Keras raised here: nothing after this call runs
        if method in ("predict", "predict_on_batch") and isinstance(x, Array) and output is not None \
                and output.shape is not None and x.shape is not None and x.shape:
            return Array((x.shape[0],) + tuple(output.shape[1:]), framework=x.framework, dtype="float32",
                         origin=Origin(f"model.{method}", node))
        return UNKNOWN

    def check_data(self, spec, x, functional, record, node, method) -> bool:
        """False when Keras fails on ``x`` before the loss (reported here, or unknown)."""
        if not isinstance(x, Tensor) or x.shape is None or spec is None:
            return True
        problem, adjusted = loss_ops.keras_data_problem(spec, x.shape, functional)
        if problem is None and self.stack is not None \
                and any(isinstance(a, int) and isinstance(b, int) and a != b for a, b in zip(adjusted[1:], spec[1:])):
            layer = self.frontend.rejecting_layer(self.stack, (None,) + tuple(adjusted[1:]))
            if layer is not None:
                axis = next(i for i, (a, b) in enumerate(zip(adjusted, spec)) if i and isinstance(a, int)
                            and isinstance(b, int) and a != b)
                problem = {"why": "layer", "axis": axis, "layer": layer, "keras": "the layer rejects it"}
        if problem is not None:
            problem.update(spec=tuple(spec), data=tuple(x.shape), method=method,
                           origin=getattr(x, "origin", None))
            self._record(record, method, [x, Tensor(tuple(spec))], node, loss_ops.data_problem(problem))
            return False
        return True

    def check_targets(self, owner, output, y, record, node, method):
        loss = self.losses.get(id(owner))
        if not isinstance(loss, loss_ops.KerasLoss) or not isinstance(y, Tensor) or y.shape is None \
                or output is None or output.shape is None:
            return
        problem = loss_ops.keras_target_problem(loss, tuple(y.shape), tuple(output.shape))
        if problem is None:
            return
        problem.update(loss=loss.label, method=method, origin=getattr(y, "origin", None),
                       given_target=tuple(y.shape), given_output=tuple(output.shape))
        self._record(record, method, [y, output], node, loss_ops.target_problem(problem))

    def _record(self, model: Model, method, tensors, node, problem):
        if model is None:
            return
        op = loss_ops.Border(f"model.{method}" if method != "validation_data" else "validation_data")
        # no input shapes: a border check is not a layer, ``shapes`` does not list it
        model.nodes.append(Node(op, {"problem": problem}, [], [t.producer for t in tensors], node, node,
                                problems=[problem],
                                speculative=self.frontend.interp.speculative > 0))


__all__ = ["KerasBorders", "DATA_METHODS", "TARGET_METHODS"]
