"""TensorFlow 1 graphs at their borders: ``sess.run(..., feed_dict={placeholder: value})`` against
the placeholders' shapes, and the cross-entropy / ``tf.losses`` functions' labels against their
logits, as TensorFlow 2.21 (``tf.compat.v1``) checks them.

* feeding: ``Session.run`` raises "Cannot feed value of shape (100, 784) for Tensor Placeholder:0,
  which has shape (None, 28, 28, 1)" unless the value has the placeholder's rank and every size
  the placeholder fixes;
* ``tf.nn.sparse_softmax_cross_entropy_with_logits`` and ``tf.losses.sparse_softmax_cross_entropy``
  want labels of rank ``logits.ndim - 1`` (checked while the graph is built);
  ``tf.nn.sigmoid_cross_entropy_with_logits`` the same shape; ``tf.losses.softmax_cross_entropy`` /
  ``mean_squared_error`` / ``log_loss`` compatible shapes; ``tf.nn.softmax_cross_entropy_with_logits``
  (v1 and v2) fails when the graph runs, at the op, when the sizes cannot broadcast.
"""

from __future__ import annotations

from shapelint.ir import UNKNOWN, Node, Tensor
from shapelint.shapes import dims, loss_ops

SESSIONS = {"Session", "InteractiveSession", "compat.v1.Session", "compat.v1.InteractiveSession"}
# function (after "tensorflow.") -> (rule, label keyword, logits keyword)
LOSSES = {
    "nn.sparse_softmax_cross_entropy_with_logits": ("sparse", "labels", "logits"),
    "losses.sparse_softmax_cross_entropy": ("sparse", "labels", "logits"),
    "nn.sigmoid_cross_entropy_with_logits": ("same", "labels", "logits"),
    "nn.softmax_cross_entropy_with_logits": ("broadcast", "labels", "logits"),
    "nn.softmax_cross_entropy_with_logits_v2": ("broadcast", "labels", "logits"),
    "losses.softmax_cross_entropy": ("compatible", "onehot_labels", "logits"),
    "losses.sigmoid_cross_entropy": ("compatible", "multi_class_labels", "logits"),
    "losses.mean_squared_error": ("compatible", "labels", "predictions"),
    "losses.absolute_difference": ("compatible", "labels", "predictions"),
    "losses.log_loss": ("compatible", "labels", "predictions"),
}


class TfSession:
    """A ``tf.Session``; ``run`` checks what it is fed."""


def _compatible(placeholder, value) -> bool | None:
    """TensorShape.is_compatible_with: same rank and equal sizes wherever both are known."""
    if placeholder is None or value is None:
        return None
    if len(placeholder) != len(value):
        return False
    for a, b in zip(placeholder, value):
        if isinstance(a, int) and isinstance(b, int) and a != b:
            return False
    return True


def _tuple(shape) -> str:
    return "(" + ", ".join("None" if not isinstance(d, int) else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


class TfBorders:
    def __init__(self, frontend):
        self.frontend = frontend

    def _record(self, name, problem, tensors, node):
        current = self.frontend.current
        if current is None:
            return
        current.nodes.append(Node(loss_ops.Border(name), {"problem": problem}, [],
                                  [t.producer if isinstance(t, Tensor) else None for t in tensors], node, node,
                                  problems=[problem], speculative=self.frontend.interp.speculative > 0))

    def run(self, args, kwargs, node):
        """``sess.run(fetches, feed_dict)``: each fed value against its placeholder."""
        if args is UNKNOWN or kwargs is UNKNOWN:
            return UNKNOWN
        fetches = args[0] if args else kwargs.get("fetches")
        feed = args[1] if len(args) > 1 else kwargs.get("feed_dict")
        if isinstance(feed, dict):
            for key, value in feed.items():
                if not isinstance(key, Tensor) or key.shape is None:
                    continue
                shape = value.shape if isinstance(value, Tensor) else None
                if shape is None or _compatible(key.shape, shape) is not False:
                    continue
                text = (f"Cannot feed value of shape {_tuple(shape)} for Tensor Placeholder:0, which has shape "
                        f"{_tuple(key.shape)}")
                problem = loss_ops.data_problem({"why": "feed", "spec": tuple(key.shape), "data": tuple(shape),
                                                 "method": "sess.run feed_dict", "tf": text,
                                                 "origin": getattr(value, "origin", None)})
                self._record("sess.run", problem, [value, key], node)
                return UNKNOWN
        if isinstance(fetches, (list, tuple)):
            return [UNKNOWN] * len(fetches)
        return UNKNOWN

    def loss(self, name, args, kwargs, node):
        """A loss function: its labels against its logits; None when ``name`` is not one."""
        if name not in LOSSES or args is UNKNOWN or kwargs is UNKNOWN:
            return None
        rule, label_key, logits_key = LOSSES[name]
        positional = name.startswith("losses.")
        labels = kwargs.get(label_key, args[0] if positional and args else None)
        logits = kwargs.get(logits_key, args[1] if positional and len(args) > 1 else None)
        if not isinstance(labels, Tensor) or not isinstance(logits, Tensor) \
                or labels.shape is None or logits.shape is None:
            return None
        t, o = tuple(labels.shape), tuple(logits.shape)
        data = None
        if rule == "sparse":
            if len(t) != len(o) - 1:
                data = {"why": "sparse rank", "tf": f"`labels.shape.rank` must equal `logits.shape.rank - 1`. "
                                                   f"Received: labels.shape={_tuple(t)} of rank {len(t)} and "
                                                   f"logits.shape={_tuple(o)} of rank {len(o)}"}
        elif rule == "same" or rule == "compatible":
            if _compatible(o, t) is False:
                data = {"why": "rank" if len(t) != len(o) else "shape",
                        "axis": next((i for i, (a, b) in enumerate(zip(t, o)) if isinstance(a, int)
                                      and isinstance(b, int) and a != b), None),
                        "tf": f"Shapes {_tuple(o)} and {_tuple(t)} are incompatible"}
        elif rule == "broadcast" and len(t) == len(o):
            for axis, (a, b) in enumerate(zip(t, o)):
                if dims.same(a, b) is False and a != 1 and b != 1:
                    data = {"why": "shape", "axis": axis, "tf": "logits and labels must be broadcastable"}
                    break
        if data is None:
            return None
        short = name.rsplit(".", 1)[-1]
        data.update(loss=f"tf.{name}", method=f"tf.{name}", framework="tf", target=t, output=o, given_target=t,
                    given_output=o, origin=getattr(labels, "origin", None))
        self._record(short, loss_ops.target_problem(data), [logits, labels], node)
        return Tensor(None, framework="tf")


__all__ = ["TfSession", "TfBorders", "SESSIONS", "LOSSES"]
