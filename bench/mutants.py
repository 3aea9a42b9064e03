"""Mutation study: shapelint against the real framework on mutated clean fixtures.

    python bench/mutants.py [--frameworks torch,keras,tf] [--limit N] [--seed S] [--json-out FILE]
                            [--timeout 20] [--fix]

Every clean fixture (``fixtures/{torch,keras,tf}/ok_*.py``) is mutated by editing one layer
call's arguments (LibCST, one edit per mutant).  PyTorch operators:

* ``conv_in`` / ``conv_out``: a Conv*d / ConvTranspose*d in/out channel argument ``+ 1``;
* ``linear_in``: a Linear's in-features ``+ 1``;
* ``kernel_collapse``: a conv / pool kernel enlarged to the smallest size that makes an output
  dimension <= 0 (sized from the input the layer really received in the unmutated run);
  ``kernel_fit``: one less, the largest kernel that still leaves an output of 1;
* ``dilation_collapse`` / ``dilation_fit``: the same with ``dilation``;
* ``stride_big``: stride = the largest input extent (the output becomes 1 in every dim);
* ``padding_swap``: ``'same'`` <-> ``'valid'``, or an int padding > 0 -> 0;
* ``padding_same``: an int padding of a stride-1 conv -> ``'same'`` (PyTorch allows it);
* ``same_strided``: ``padding='same'`` gets ``stride=2``, or a strided conv gets ``padding='same'``;
* ``groups_break``: ``groups=g`` with g not dividing in or out channels;
  ``groups_fit``: ``groups=g`` with g dividing both (should run).

Keras (layers infer their input channels): ``conv_out`` (filters + 1), ``dense_units`` (+ 1),
``kernel_*``, ``dilation_*`` (``dilation_rate``), ``stride_big`` (``strides``), ``padding_swap``,
``groups_*``.  Raw TF (``tf.nn``, literal shapes): ``padding_swap`` ('SAME' <-> 'VALID'),
``stride_big`` / ``ksize_big`` (a window op's strides / ksize), ``filter_in`` / ``filter_out`` /
``kernel_big`` (a 4-int filter shape), ``dense_in`` / ``dense_out`` (a 2-int weight shape),
``reshape`` (a target with -1).  The TF graph is built as tests/test_tfnn.py does (TF1 names via
compat.v1) and every op of the file is run with its placeholders fed (unknown dims = 3).

Ground truth: ONE subprocess per framework imports the framework once, runs each original
fixture (recording every layer's constructor line, parameters and input shapes: they size the
kernel / dilation / stride / groups edits), generates the mutants and runs each one as
``__main__`` from a temporary file (fresh namespace, seeded), streaming one JSON line per
mutant: did it raise, what, and at which line.  The parent lints every mutant with
``shapelint.api.lint_source`` while the child keeps running.

Scores (error-severity findings only):
* precision = mutants with an error finding that really raise / mutants with an error finding;
* recall    = raising mutants with an error finding / raising mutants.
A false positive is a mutant that runs clean but gets an error finding; they are listed with
the edit and the runtime outcome, as are the misses.

``--limit N`` keeps a deterministic sample of N mutants (seeded shuffle, ``--seed``), chosen in
the child before anything runs.

``--fix`` also repairs every mutant as ``shapelint check --fix --unsafe-fixes`` would
(``shapelint.fixer.fix_source``) and runs each changed one in the framework (a second child):
how many of the raising mutants the fixes turn into programs that run, and whether a fix ever
touched -- or broke -- a mutant that ran clean.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
FIXTURES = {"torch": REPO / "fixtures" / "torch", "keras": REPO / "fixtures" / "keras",
            "tf": REPO / "fixtures" / "tf"}

CONV = {"Conv1d": 1, "Conv2d": 2, "Conv3d": 3}
TCONV = {"ConvTranspose1d": 1, "ConvTranspose2d": 2, "ConvTranspose3d": 3}
MAXPOOL = {"MaxPool1d": 1, "MaxPool2d": 2, "MaxPool3d": 3}
AVGPOOL = {"AvgPool1d": 1, "AvgPool2d": 2, "AvgPool3d": 3}
POOL = {**MAXPOOL, **AVGPOOL}
LINEAR = {"Linear": 0}
WATCHED = {**CONV, **TCONV, **POOL, **LINEAR}

# positional parameter order of the constructors we edit
SIGNATURE = {
    **{name: ["in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups"]
       for name in CONV},
    **{name: ["in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups"]
       for name in TCONV},
    **{name: ["kernel_size", "stride", "padding", "dilation"] for name in MAXPOOL},
    **{name: ["kernel_size", "stride", "padding"] for name in AVGPOOL},
    "Linear": ["in_features", "out_features"],
}

# Keras 3 (canonical class name -> spatial rank), positional order, and the aliases code uses
K_CONV = {"Conv1D": 1, "Conv2D": 2, "Conv3D": 3}
K_TCONV = {"Conv1DTranspose": 1, "Conv2DTranspose": 2, "Conv3DTranspose": 3}
K_SEP = {"SeparableConv1D": 1, "SeparableConv2D": 2, "DepthwiseConv1D": 1, "DepthwiseConv2D": 2}
K_POOL = {"MaxPooling1D": 1, "MaxPooling2D": 2, "MaxPooling3D": 3,
          "AveragePooling1D": 1, "AveragePooling2D": 2, "AveragePooling3D": 3}
K_DENSE = {"Dense": 0}
K_WATCHED = {**K_CONV, **K_TCONV, **K_SEP, **K_POOL, **K_DENSE}
K_ALIAS = {"Convolution1D": "Conv1D", "Convolution2D": "Conv2D", "Convolution3D": "Conv3D",
           "Convolution2DTranspose": "Conv2DTranspose", "SeparableConvolution2D": "SeparableConv2D",
           "MaxPool1D": "MaxPooling1D", "MaxPool2D": "MaxPooling2D", "MaxPool3D": "MaxPooling3D",
           "AvgPool1D": "AveragePooling1D", "AvgPool2D": "AveragePooling2D", "AvgPool3D": "AveragePooling3D"}
K_SIGNATURE = {
    **{name: ["filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups"]
       for name in K_CONV},
    **{name: ["filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate"] for name in K_TCONV},
    "SeparableConv1D": ["filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate"],
    "SeparableConv2D": ["filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate"],
    "DepthwiseConv1D": ["kernel_size", "strides", "padding", "depth_multiplier", "data_format", "dilation_rate"],
    "DepthwiseConv2D": ["kernel_size", "strides", "padding", "depth_multiplier", "data_format", "dilation_rate"],
    **{name: ["pool_size", "strides", "padding", "data_format"] for name in K_POOL},
    "Dense": ["units"],
}
SIGNATURE.update(K_SIGNATURE)
WATCHED_BY = {"torch": (WATCHED, {}), "keras": (K_WATCHED, K_ALIAS)}
MAX_WEIGHT = 20_000_000  # skip a kernel edit whose weight would exceed this many elements (RAM, time)
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 36, 49, 64, 128, 144)  # other sizes fed for unknown tf dims when a run fails with 3


# ----- mutant generation (LibCST; runs in the child, which knows the runtime shapes) -------------


def _callee(node) -> str:
    import libcst as cst

    func = node.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return ""


def _arg(call, name: str):
    """(index in call.args, value node) of parameter ``name`` given positionally or by keyword."""
    sig = SIGNATURE[K_ALIAS.get(_callee(call), _callee(call))]
    for i, arg in enumerate(call.args):
        if arg.keyword is not None and arg.keyword.value == name:
            return i, arg.value
    position = sig.index(name)
    positional = [i for i, arg in enumerate(call.args) if arg.keyword is None and not arg.star]
    if any(arg.star for arg in call.args):
        return None, None
    if position < len(positional):
        return positional[position], call.args[positional[position]].value
    return None, None


def _set_arg(call, name: str, code: str):
    """A copy of ``call`` with parameter ``name`` set to the expression ``code``."""
    import libcst as cst

    index, _ = _arg(call, name)
    value = cst.parse_expression(code)
    args = list(call.args)
    if index is not None:
        args[index] = args[index].with_changes(value=value)
    else:
        if any(arg.star for arg in args):
            return None
        if args:
            last = args[-1]
            args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) \
                if last.comma is cst.MaybeSentinel.DEFAULT else last
        args.append(cst.Arg(value=value, keyword=cst.Name(name),
                            equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                                  whitespace_after=cst.SimpleWhitespace(""))))
    return call.with_changes(args=args)


def _plus_one(module, node) -> str:
    import libcst as cst

    if isinstance(node, cst.Integer):
        return str(int(node.value, 0) + 1)
    return f"({module.code_for_node(node)}) + 1"


def _literal(node) -> bool:
    import libcst as cst

    if isinstance(node, cst.Integer):
        return True
    if isinstance(node, cst.BinaryOperation):
        return _literal(node.left) and _literal(node.right)
    if isinstance(node, (cst.Tuple, cst.List)):
        return all(_literal(e.value) for e in node.elements)
    return False


def _tuple(value, rank: int) -> list:
    if isinstance(value, (tuple, list)):
        return list(value)
    return [value] * rank


def _collapses(size, pad, dil, kernel) -> bool:
    """PyTorch's conv/pool output extent (in + 2p - d(k-1) - 1) // s + 1 is <= 0 for any stride."""
    return size + 2 * pad - dil * (kernel - 1) - 1 < 0


def _spatial(record: dict, rank: int) -> list:
    """Per spatial dim, the smallest extent this constructor line's layers received."""
    sizes = None
    for shape in record["inputs"]:
        dims = shape[-rank:] if rank else []
        if len(dims) != rank:
            continue
        sizes = dims if sizes is None else [min(a, b) for a, b in zip(sizes, dims)]
    return sizes


def _collapse_kernel(records: list, rank: int):
    """Smallest int kernel collapsing some dim of some instance, or None."""
    best = None
    for record in records:
        sizes = _spatial(record, rank)
        if sizes is None or isinstance(record["padding"], str):
            return None
        pad, dil = _tuple(record["padding"], rank), _tuple(record["dilation"], rank)
        for size, p, d in zip(sizes, pad, dil):
            k = 1
            while not _collapses(size, p, d, k):
                k += 1
            # pools also need padding <= kernel // 2, true here since k > size + 2p
            best = k if best is None else min(best, k)
    return best


def _collapse_dilation(records: list, rank: int):
    best = None
    for record in records:
        sizes = _spatial(record, rank)
        if sizes is None or isinstance(record["padding"], str):
            return None
        pad, ker = _tuple(record["padding"], rank), _tuple(record["kernel"], rank)
        for size, p, k in zip(sizes, pad, ker):
            if k <= 1:
                continue
            d = 1
            while not _collapses(size, p, d, k):
                d += 1
            best = d if best is None else min(best, d)
    return best


@dataclass
class Site:
    node: object
    name: str
    start: int
    end: int
    records: list = field(default_factory=list)


def sites(module, runtime: dict, framework: str = "torch") -> list:
    """Every watched layer call in ``module``, with the runtime records of the layers it built."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    watched, aliases = WATCHED_BY[framework]
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    found = []

    class Visitor(cst.CSTVisitor):
        def visit_Call(self, node):
            name = _callee(node)
            name = aliases.get(name, name)
            if name in watched:
                span = positions[node]
                found.append(Site(node, name, span.start.line, span.end.line))

    wrapper.visit(Visitor())
    for line, records in runtime.items():
        for record in records:
            candidates = [s for s in found if s.name == record["cls"] and s.start <= int(line) <= s.end]
            if candidates:
                min(candidates, key=lambda s: s.end - s.start).records.append(record)
    return found


def _weight(records: list, kernel: int, rank: int) -> int:
    return max((r["in"] or 1) * (r["out"] or 1) // max(r["groups"] or 1, 1) * kernel ** rank for r in records)


def edits(module, site: Site, framework: str = "torch") -> list:
    """(operator, new call node) for one call site."""
    if framework == "keras":
        return keras_edits(module, site)
    call, name, records = site.node, site.name, site.records
    rank = WATCHED[name]
    out = []

    def put(op, param, code):
        new = _set_arg(call, param, code)
        if new is not None:
            out.append((op, new))

    if name in CONV or name in TCONV:
        for op, param in (("conv_in", "in_channels"), ("conv_out", "out_channels")):
            _, value = _arg(call, param)
            if value is not None:
                put(op, param, _plus_one(module, value))
    if name in LINEAR:
        _, value = _arg(call, "in_features")
        if value is not None:
            put("linear_in", "in_features", _plus_one(module, value))
    if not records:
        return out  # never ran: only the text-only edits above
    if name in CONV or name in POOL:
        k = _collapse_kernel(records, rank)
        if k is not None:
            current = max(max(_tuple(r["kernel"], rank)) for r in records)
            if name in POOL or _weight(records, k, rank) <= MAX_WEIGHT:
                put("kernel_collapse", "kernel_size", str(k))
                if k - 1 > current:
                    put("kernel_fit", "kernel_size", str(k - 1))
        if name in CONV or name in MAXPOOL:
            d = _collapse_dilation(records, rank)
            if d is not None:
                put("dilation_collapse", "dilation", str(d))
                if d - 1 > max(max(_tuple(r["dilation"], rank)) for r in records):
                    put("dilation_fit", "dilation", str(d - 1))
        sizes = [s for r in records for s in (_spatial(r, rank) or [])]
        strides = {s for r in records for s in _tuple(r["stride"], rank)}
        same = any(r["padding"] == "same" for r in records)
        if sizes and max(sizes) > 1 and not same and max(sizes) not in strides:
            put("stride_big", "stride", str(max(sizes)))
    if name in CONV:
        paddings = [r["padding"] for r in records]
        strides = [max(_tuple(r["stride"], rank)) for r in records]
        _, pad_node = _arg(call, "padding")
        if all(p == "same" for p in paddings):
            put("padding_swap", "padding", '"valid"')
            put("same_strided", "stride", "2")
        elif all(p == "valid" for p in paddings):
            put("padding_swap", "padding", '"same"')
        elif pad_node is not None and all(max(_tuple(p, rank)) > 0 for p in paddings):
            put("padding_swap", "padding", "0")
        if not any(isinstance(p, str) for p in paddings):
            if max(strides) > 1:
                put("same_strided", "padding", '"same"')
            elif max(max(_tuple(r["dilation"], rank)) for r in records) >= 1:
                put("padding_same", "padding", '"same"')
        ins = [r["in"] for r in records]
        outs = [r["out"] for r in records]
        groups = {r["groups"] for r in records}
        g = next((g for g in range(2, 64) if any(i % g or o % g for i, o in zip(ins, outs))), None)
        if g is not None and g not in groups:
            put("groups_break", "groups", str(g))
        fit = next((g for g in range(2, 64) if all(i % g == 0 and o % g == 0 for i, o in zip(ins, outs))
                    and g not in groups), None)
        if fit is not None:
            put("groups_fit", "groups", str(fit))
    return out


def keras_edits(module, site: Site) -> list:
    """Keras layers infer their input channels: the edits are filters/units, kernel, dilation,
    strides, padding and groups."""
    call, name, records = site.node, site.name, site.records
    rank = K_WATCHED[name]
    out = []

    def put(op, param, code):
        new = _set_arg(call, param, code)
        if new is not None:
            out.append((op, new))

    if name in K_CONV or name in K_TCONV or name.startswith("Separable"):
        _, value = _arg(call, "filters")
        if value is not None:
            put("conv_out", "filters", _plus_one(module, value))
    if name in K_DENSE:
        _, value = _arg(call, "units")
        if value is not None:
            put("dense_units", "units", _plus_one(module, value))
    if not records or name in K_DENSE:
        return out
    kernel_param = "pool_size" if name in K_POOL else "kernel_size"
    if name not in K_TCONV:
        k = _collapse_kernel(records, rank)
        if k is not None:
            current = max(max(_tuple(r["kernel"], rank)) for r in records)
            if name in K_POOL or _weight(records, k, rank) <= MAX_WEIGHT:
                put("kernel_collapse", kernel_param, str(k))
                if k - 1 > current:
                    put("kernel_fit", kernel_param, str(k - 1))
        if name not in K_POOL:
            d = _collapse_dilation(records, rank)
            if d is not None:
                put("dilation_collapse", "dilation_rate", str(d))
                if d - 1 > max(max(_tuple(r["dilation"], rank)) for r in records):
                    put("dilation_fit", "dilation_rate", str(d - 1))
    sizes = [v for r in records for v in (_spatial(r, rank) or [])]
    strides = {v for r in records for v in _tuple(r["stride"], rank)}
    if sizes and max(sizes) > 1 and max(sizes) not in strides:
        put("stride_big", "strides", str(max(sizes)))
    paddings = [r["padding"] for r in records]
    if all(p == "same" for p in paddings):
        put("padding_swap", "padding", '"valid"')
    elif all(p == 0 for p in paddings):
        put("padding_swap", "padding", '"same"')
    if name in K_CONV:
        ins, outs = [r["in"] for r in records], [r["out"] for r in records]
        if all(isinstance(v, int) for v in ins + outs):
            groups = {r["groups"] for r in records}
            g = next((g for g in range(2, 64) if any(i % g or o % g for i, o in zip(ins, outs))), None)
            if g is not None and g not in groups:
                put("groups_break", "groups", str(g))
            fit = next((g for g in range(2, 64) if all(i % g == 0 and o % g == 0 for i, o in zip(ins, outs))
                        and g not in groups), None)
            if fit is not None:
                put("groups_fit", "groups", str(fit))
    return out


TF_WINDOW_OPS = {"conv2d", "conv1d", "conv3d", "max_pool", "avg_pool", "max_pool2d", "avg_pool2d", "pool",
                 "depthwise_conv2d", "separable_conv2d", "conv2d_transpose", "atrous_conv2d", "max_pool_with_argmax",
                 "convolution", "depthwise_conv2d_native"}

# positional index of ``strides`` where it is not the third argument
TF_POSITIONAL_STRIDES = {"conv2d_transpose": 3, "separable_conv2d": 3, "conv3d_transpose": 3,
                         "conv1d_transpose": 3, "atrous_conv2d": None, "convolution": None}


def _ints(node):
    """The ints of a tuple / list literal of int literals (``-1`` allowed), else None."""
    import libcst as cst

    if not isinstance(node, (cst.Tuple, cst.List)) or not node.elements:
        return None
    values = []
    for element in node.elements:
        value = element.value
        if isinstance(value, cst.Integer):
            values.append(int(value.value, 0))
        elif isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Minus) \
                and isinstance(value.expression, cst.Integer):
            values.append(-int(value.expression.value, 0))
        else:
            return None
    return values


def tf_edits(module) -> list:
    """(operator, old node, new node, line) for raw-TF code: edits of literal shapes and paddings.

    * ``padding_swap``: 'SAME' <-> 'VALID';
    * in a tf.nn window op's ``strides`` / ``ksize`` (4 ints): ``stride_big`` (spatial strides 8),
      ``ksize_big`` (spatial window 33);
    * any other 4-int literal (a filter shape [kh, kw, in, out]): ``filter_in`` / ``filter_out``
      (+1), ``kernel_big`` (33x33 when the weight stays small);
    * a 2-int literal of positive ints (a matmul weight [in, out]): ``dense_in`` / ``dense_out`` (+1);
    * a literal with a -1 (a reshape target): ``reshape`` (last entry +1).
    """
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    found = []
    calls, args = [], []

    def add(op, old, new):
        # the lines of the call the literal sits in: did the unmutated run build an op there?
        span = positions[calls[0]] if calls else positions[old]
        found.append((op, old, new, (span.start.line, span.end.line)))

    def literal(values, like):
        text = ", ".join(str(v) for v in values)
        return cst.parse_expression(f"[{text}]" if isinstance(like, cst.List) else f"({text})")

    class Visitor(cst.CSTVisitor):
        def visit_Call(self, node):
            calls.append(node)

        def leave_Call(self, node):
            calls.pop()

        def visit_Arg(self, node):
            args.append(node)

        def leave_Arg(self, node):
            args.pop()

        def visit_SimpleString(self, node):
            inner = node.value.strip("'\"")
            if inner in ("SAME", "VALID"):
                quote = node.value[0]
                other = "VALID" if inner == "SAME" else "SAME"
                add("padding_swap", node, cst.SimpleString(f"{quote}{other}{quote}"))

        def _context(self):
            if not calls or not args:
                return None, None
            call, arg = calls[-1], args[-1]
            if arg not in call.args:
                return None, None
            name = _callee(call)
            if arg.keyword is not None:
                return name, arg.keyword.value
            position = [a for a in call.args if a.keyword is None].index(arg)
            if position == TF_POSITIONAL_STRIDES.get(name, 2):
                return name, "strides"
            return name, {1: "window_1"}.get(position)

        def visit_Tuple(self, node):
            self._literal(node)

        def visit_List(self, node):
            self._literal(node)

        def _literal(self, node):
            values = _ints(node)
            if values is None:
                return
            callee, role = self._context()
            window = callee in TF_WINDOW_OPS
            if window and role == "strides" and len(values) == 4:
                if max(values[1:3]) < 8:
                    add("stride_big", node, literal([values[0], 8, 8, values[3]], node))
                return
            if window and (role == "ksize" or (role == "window_1" and "pool" in callee)) and len(values) == 4:
                add("ksize_big", node, literal([values[0], 33, 33, values[3]], node))
                return
            if -1 in values and len(values) >= 2:
                changed = values[:-1] + [values[-1] + 1] if values[-1] != -1 else None
                if changed:
                    add("reshape", node, literal(changed, node))
                return
            if len(values) == 4 and min(values) > 0:
                kh, kw, cin, cout = values
                add("filter_in", node, literal([kh, kw, cin + 1, cout], node))
                add("filter_out", node, literal([kh, kw, cin, cout + 1], node))
                if cin * cout * 33 * 33 <= MAX_WEIGHT and max(kh, kw) < 33:
                    add("kernel_big", node, literal([33, 33, cin, cout], node))
            elif len(values) == 2 and min(values) > 0:
                add("dense_in", node, literal([values[0] + 1, values[1]], node))
                add("dense_out", node, literal([values[0], values[1] + 1], node))

    wrapper.visit(Visitor())
    return [(op, old, new, positions[old].start.line, span) for op, old, new, span in found]


def mutants_of(path: Path, runtime: dict, framework: str = "torch") -> list:
    """Every mutant of one fixture: dicts with file, line, op, before, after, literal, source."""
    import libcst as cst

    module = cst.parse_module(path.read_text())
    result = []
    if framework == "tf":
        lines = module.code.splitlines()
        executed = {int(line) for line in runtime}
        for op, old, new, line, (first, last) in tf_edits(module):
            result.append({"file": str(path.relative_to(REPO)), "line": line, "op": op, "layer": "",
                           "ran": any(first <= n <= last for n in executed), "before": lines[line - 1].strip(),
                           "after": " ".join(module.code_for_node(new).split()),
                           "source": module.deep_replace(old, new).code})
        return result
    for site in sites(module, runtime, framework):
        for op, new in edits(module, site, framework):
            source = module.deep_replace(site.node, new).code
            result.append({"file": str(path.relative_to(REPO)), "line": site.start, "op": op,
                           "layer": site.name, "ran": bool(site.records),
                           "before": " ".join(module.code_for_node(site.node).split()),
                           "after": " ".join(module.code_for_node(new).split()), "source": source})
    return result


# ----- the child: framework runtime ---------------------------------------------------------------


def _torch_child(paths: list, limit, seed: int, timeout: int) -> None:
    import contextlib
    import io
    import runpy
    import signal
    import warnings

    warnings.simplefilter("ignore")
    import torch

    from shapelint.confirm.torch_runtime import declared_classes

    torch.set_num_threads(1)
    state = {"file": None, "records": {}, "by_id": {}, "recording": False}
    original_init = torch.nn.Module.__init__

    def file_line(frame):
        while frame is not None:
            if frame.f_code.co_filename == state["file"]:
                return frame.f_lineno
            frame = frame.f_back
        return None

    def init(module, *args, **kwargs):
        original_init(module, *args, **kwargs)
        if state["file"] is not None and "_mutant_line" not in module.__dict__:
            object.__setattr__(module, "_mutant_line", file_line(sys._getframe(1)))

    def pre_hook(module, args):
        if not state["recording"] or state["file"] is None or type(module).__name__ not in WATCHED:
            return
        line = module.__dict__.get("_mutant_line")
        if line is None:
            return
        record = state["by_id"].get(id(module))
        if record is None:
            get = lambda name: getattr(module, name, None)  # noqa: E731
            record = {"cls": type(module).__name__,
                      "in": get("in_channels") or get("in_features"), "out": get("out_channels"),
                      "groups": get("groups"), "kernel": get("kernel_size"), "stride": get("stride"),
                      "padding": get("padding"), "dilation": get("dilation") or 1, "inputs": []}
            if record["stride"] is None:
                record["stride"] = record["kernel"]
            for key in ("kernel", "stride", "padding", "dilation"):
                if isinstance(record[key], tuple):
                    record[key] = list(record[key])
            state["by_id"][id(module)] = record
            state["records"].setdefault(line, []).append(record)
            state.setdefault("keep", []).append(module)
        if args and isinstance(args[0], torch.Tensor) and len(record["inputs"]) < 8:
            record["inputs"].append(list(args[0].shape))

    torch.nn.Module.__init__ = init
    hook = torch.nn.modules.module.register_module_forward_pre_hook(pre_hook)

    _alarm(timeout)

    def run(path: str, source_path: str) -> dict:
        state["file"] = source_path
        torch.manual_seed(0)
        error = None
        signal.alarm(timeout)
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                namespace = runpy.run_path(source_path, run_name="__main__")
                for name, shape in declared_classes(Path(source_path).read_text()):
                    namespace[name]()(torch.randn(*shape))
        except Exception as exc:  # noqa: BLE001 - the point is to see what torch raises
            error = _error(exc, source_path)
        finally:
            signal.alarm(0)
            state["file"] = None
        return error

    try:
        _drive("torch", paths, limit, seed, run, state)
    finally:
        hook.remove()


def _drive(framework: str, paths: list, limit, seed: int, run, state: dict) -> None:
    """Run the originals (recording layers), generate the mutants, run them; one JSON line each.
    With ``limit == "run"``: only run the given files (repaired mutants), one JSON line each."""
    import tempfile

    if limit == "run":
        for path in paths:
            print(json.dumps({"kind": "run", "file": path, "error": run(path, path)}), flush=True)
        return

    # 1. originals: do they run clean, and what did each layer receive?
    runtime, clean = {}, []
    for path in paths:
        state["records"], state["by_id"], state["keep"], state["recording"] = {}, {}, [], True
        error = run(path, str(path))
        runtime[path] = {str(k): v for k, v in state["records"].items()}
        state["keep"], state["recording"] = [], False
        print(json.dumps({"kind": "original", "file": str(Path(path).relative_to(REPO)), "error": error}),
              flush=True)
        if error is None:
            clean.append(path)

    # 2. the mutants
    mutants = []
    for path in clean:
        mutants.extend(mutants_of(Path(path), runtime[path], framework))
    mutants.sort(key=lambda m: (m["file"], m["line"], m["op"], m["after"]))
    if limit is not None:
        random.Random(seed).shuffle(mutants)
        mutants = sorted(mutants[:limit], key=lambda m: (m["file"], m["line"], m["op"], m["after"]))
    print(json.dumps({"kind": "count", "count": len(mutants)}), flush=True)
    with tempfile.TemporaryDirectory(prefix="shapelint-mutants-") as folder:
        for index, mutant in enumerate(mutants):
            # same file name in a fresh folder: the fixture's own directory is not on sys.path anyway
            source_path = os.path.join(folder, f"m{index}_{Path(mutant['file']).name}")
            Path(source_path).write_text(mutant["source"])
            mutant["error"] = run(mutant["file"], source_path)
            os.unlink(source_path)
            print(json.dumps({"kind": "mutant", **mutant}), flush=True)


def _alarm(timeout: int):
    import signal

    def alarm(signum, frame):
        raise TimeoutError(f"mutant ran longer than {timeout}s")

    signal.signal(signal.SIGALRM, alarm)


def _error(exc: BaseException, source_path: str) -> dict:
    import traceback

    lines = [e.lineno for e in traceback.extract_tb(exc.__traceback__) if e.filename == source_path]
    text = str(exc).strip().splitlines()
    return {"type": type(exc).__name__, "message": (text[0] if text else "")[:300],
            "line": lines[-1] if lines else None}


def _keras_child(paths: list, limit, seed: int, timeout: int) -> None:
    import contextlib
    import io
    import runpy
    import signal
    import warnings

    warnings.simplefilter("ignore")
    import keras

    state = {"file": None, "records": {}, "by_id": {}, "recording": False}
    layer_cls = keras.layers.Layer
    original_init, original_call = layer_cls.__init__, layer_cls.__call__

    def file_line(frame):
        while frame is not None:
            if frame.f_code.co_filename == state["file"]:
                return frame.f_lineno
            frame = frame.f_back
        return None

    def init(layer, *args, **kwargs):
        original_init(layer, *args, **kwargs)
        if state["file"] is not None and "_mutant_line" not in layer.__dict__:
            object.__setattr__(layer, "_mutant_line", file_line(sys._getframe(1)))

    def call(layer, *args, **kwargs):
        if state["recording"] and type(layer).__name__ in K_WATCHED and args:
            line = layer.__dict__.get("_mutant_line")
            shape = getattr(args[0], "shape", None)
            if line is not None and shape is not None:
                record = state["by_id"].get(id(layer))
                if record is None:
                    get = lambda name: getattr(layer, name, None)  # noqa: E731
                    padding = get("padding")
                    record = {"cls": type(layer).__name__, "in": None, "out": get("filters"),
                              "groups": get("groups") or 1,
                              "kernel": list(get("kernel_size") or get("pool_size") or [1]),
                              "stride": list(get("strides") or [1]), "padding": 0 if padding == "valid" else padding,
                              "dilation": list(get("dilation_rate") or [1]), "inputs": [],
                              "first": get("data_format") == "channels_first"}
                    state["by_id"][id(layer)] = record
                    state["records"].setdefault(line, []).append(record)
                    state["keep"].append(layer)
                dims = [None if d is None else int(d) for d in shape]
                if not record["first"] and len(dims) > 2:
                    dims = [dims[0], dims[-1], *dims[1:-1]]  # channels first, as _spatial reads them
                if len(dims) > 1:
                    record["in"] = dims[1]
                if len(record["inputs"]) < 8 and all(d is not None for d in dims[1:]):
                    record["inputs"].append(dims)
        return original_call(layer, *args, **kwargs)

    layer_cls.__init__, layer_cls.__call__ = init, call
    _alarm(timeout)

    def run(path: str, source_path: str) -> dict:
        state["file"] = source_path
        keras.utils.set_random_seed(0)
        error = None
        signal.alarm(timeout)
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                runpy.run_path(source_path, run_name="__main__")
        except Exception as exc:  # noqa: BLE001 - the point is to see what Keras raises
            error = _error(exc, source_path)
        finally:
            signal.alarm(0)
            state["file"] = None
            keras.backend.clear_session()
        return error

    _drive("keras", paths, limit, seed, run, state)


def _tf_child(paths: list, limit, seed: int, timeout: int) -> None:
    """TF1-style graphs, as tests/test_tfnn.py runs the fixtures: build under a fresh graph with
    ``import tensorflow`` giving compat.v1, then run every op of the file with fed placeholders."""
    import contextlib
    import io
    import runpy
    import signal
    import warnings

    warnings.simplefilter("ignore")
    import numpy as np
    import tensorflow as tf

    from shapelint.confirm.tf_runtime import UNKNOWN_DIM, tf1_namespace

    v1 = tf.compat.v1
    v1.disable_eager_execution()
    shim, extra_modules = tf1_namespace(tf)
    real = {name: sys.modules.get(name) for name in ["tensorflow", *extra_modules]}
    state = {"recording": False, "records": {}}
    _alarm(timeout)

    def line_of(frames, source_path):
        lines = [frame.lineno for frame in frames if frame.filename == source_path]
        return lines[-1] if lines else None

    def build_and_run(source_path: str, unknown: int) -> dict:
        graph = tf.Graph()
        error = None
        sys.modules.update({"tensorflow": shim, **extra_modules})
        signal.alarm(timeout)
        try:
            with graph.as_default(), contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()):
                v1.set_random_seed(0)
                try:
                    runpy.run_path(source_path, run_name="__main__")
                except Exception as exc:  # noqa: BLE001 - the point is to see what TensorFlow raises
                    error = _error(exc, source_path)
                fetches = []
                for op in graph.get_operations():
                    line = line_of(op.traceback, source_path)
                    if line is not None and state["recording"]:
                        state["records"].setdefault(line, []).append(op.type)
                    if line is None or not op.outputs:
                        continue
                    out = op.outputs[0]
                    if out.dtype != tf.resource and op.type not in ("Placeholder", "VarHandleOp", "Const"):
                        fetches.append(out)
                if error is None and fetches:
                    feed = {}
                    for op in graph.get_operations():
                        if op.type == "Placeholder":
                            out = op.outputs[0]
                            dims = out.shape.as_list() if out.shape.rank is not None else []
                            feed[out] = np.full([unknown if d is None else d for d in dims],
                                                0.5 if out.dtype.is_floating else 0, dtype=out.dtype.as_numpy_dtype)
                    with v1.Session(graph=graph) as session:
                        try:
                            session.run(v1.global_variables_initializer())
                            session.run(fetches, feed)
                        except tf.errors.OpError as exc:
                            lines = [t for t in exc.message.splitlines() if t.strip()
                                     and not t.startswith((" ", "\t", "Detected at", "Graph execution error"))]
                            text = (lines[-1] if lines else exc.message.strip())[:300]
                            error = {"type": type(exc).__name__, "message": text, "stage": "run",
                                     "line": line_of(exc.op.traceback, source_path) if exc.op is not None else None}
        except Exception as exc:  # noqa: BLE001 - a TimeoutError, or an error while running
            error = _error(exc, source_path)
        finally:
            signal.alarm(0)
            for name, module in real.items():
                if module is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = module
        return error

    def run(path: str, source_path: str) -> dict:
        error = build_and_run(source_path, UNKNOWN_DIM)
        if error is not None and error.get("stage") == "run" and not state["recording"]:
            # The graph built, running it failed: with an unknown (batch) dim fed as 3.  Would
            # another size run?  Then the failure depends on the batch, not on the code alone.
            for size in BATCH_SIZES:
                if build_and_run(source_path, size) is None:
                    error["batch_dependent"] = size
                    break
        return error

    _drive("tf", paths, limit, seed, run, state)


def child_main(argv: list) -> None:
    framework, limit, seed, timeout, *paths = argv
    limit = None if limit == "-" else limit if limit == "run" else int(limit)
    if framework == "torch":
        _torch_child(paths, limit, int(seed), int(timeout))
    elif framework == "keras":
        _keras_child(paths, limit, int(seed), int(timeout))
    elif framework == "tf":
        _tf_child(paths, limit, int(seed), int(timeout))
    else:
        raise SystemExit(f"unknown framework {framework}")


# ----- the parent: run the child, lint, score -----------------------------------------------------


# Real models: Keras's own applications (the installed Keras, read and copied as text), each
# copied with one line appended that builds the model for a REAL_SIZE input.  shapelint lints
# them as a user would, with that input given to the script's call (``--input-shape
# '<module>=1,S,S,3'``): the application computes its input shape in another module
# (imagenet_utils.obtain_input_shape).
REAL_SIZE = 96
# module -> (the builder the script calls, the other builders of that file, removed from the copy
# so that shapelint analyses exactly the model the runtime builds)
KERAS_APPS = {
    "vgg16": ("VGG16", ()),
    "resnet": ("ResNet50", ("ResNet101", "ResNet152")),
    "mobilenet_v2": ("MobileNetV2", ()),
    "mobilenet_v3": ("MobileNetV3Small", ("MobileNetV3Large",)),
    "densenet": ("DenseNet121", ("DenseNet169", "DenseNet201")),
    "efficientnet": ("EfficientNetB0", tuple(f"EfficientNetB{i}" for i in range(1, 8))),
    "xception": ("Xception", ()),
}
REAL_DIR = REPO / "bench" / ".corpus" / "keras-apps"


def _blank_functions(text: str, names) -> str:
    """``text`` with the top-level functions ``names`` (decorators included) replaced by a one-line
    stub that builds nothing (module code still sets their ``__doc__``) and blank lines, so every
    other line keeps its number."""
    import ast

    lines = text.split("\n")
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name in names:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            for i in range(first - 1, node.end_lineno):
                lines[i] = ""
            lines[first - 1] = f"def {node.name}(*args, **kwargs): pass"
    return "\n".join(lines)


def keras_app_sources() -> list:
    """The driver files of the ``keras-apps`` study (written under bench/.corpus, git-ignored)."""
    import importlib.util

    spec = importlib.util.find_spec("keras")
    if spec is None or not spec.origin:
        raise SystemExit("keras-apps needs Keras installed (a test dependency)")
    apps = Path(spec.origin).parent / "src" / "applications"
    REAL_DIR.mkdir(parents=True, exist_ok=True)
    paths = []
    for module, (function, others) in sorted(KERAS_APPS.items()):
        text = _blank_functions((apps / f"{module}.py").read_text(), others)
        target = REAL_DIR / f"{module}.py"
        call = (f"\n\nif __name__ == \"__main__\":\n"
                f"    model = {function}(weights=None, input_shape=({REAL_SIZE}, {REAL_SIZE}, 3))\n")
        target.write_text(text.rstrip("\n") + call)
        paths.append(str(target))
    return paths


# torchvision's own model files (0.29.1, the source from bench/corpus.py's cached wheel), with
# their relative imports made absolute and a call on a [2, 3, TV_SIZE, TV_SIZE] batch appended.
# Running them needs torchvision importable: either the child runs under --python (a venv holding
# torch 2.14.1 + torchvision 0.29.1 plus libcst), or, without it, from the wheel's sources with a
# stub for what the model files need of torchvision's compiled and PIL-based parts (TV_STUB).
# shapelint reads the imported torchvision modules (ops.misc, models._utils) from the same
# sources: the --python environment's site-packages, or the unpacked wheel on PYTHONPATH.
TV_SIZE = 64
TORCHVISION_MODELS = {"alexnet": "alexnet", "vgg": "vgg11", "resnet": "resnet18", "squeezenet": "squeezenet1_0",
                      "mobilenetv2": "mobilenet_v2"}
TV_DIR = REPO / "bench" / ".corpus" / "torchvision-models"
TV_STUB = REPO / "bench" / ".corpus" / "torchvision-stub"
TV_STUB_FILES = {
    # packages whose __init__ would load the compiled ops or PIL: their modules come from the sources
    "torchvision/__init__.py": "__path__.append({real!r})\n",
    "torchvision/models/__init__.py": "__path__.append({real!r} + '/models')\n",
    "torchvision/ops/__init__.py": "__path__.append({real!r} + '/ops')\n",
    "torchvision/transforms/__init__.py": "__path__.append({real!r} + '/transforms')\n",
    "torchvision/transforms/_presets.py": "class ImageClassification:\n    def __init__(self, *args, **kwargs):\n"
                                          "        pass\n",
    "torchvision/utils.py": "def _log_api_usage_once(obj):\n    pass\n\n\ndef _make_ntuple(x, n):\n"
                            "    return tuple(x) if hasattr(x, '__iter__') else (x,) * n\n",
}


def torchvision_src() -> Path:
    import importlib.util

    spec = importlib.util.spec_from_file_location("shapelint_bench_corpus", REPO / "bench" / "corpus.py")
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    return corpus.fetch("torchvision", Path(os.environ.get("SHAPELINT_CORPUS_CACHE", REPO / "bench" / ".corpus")))


def torchvision_stub() -> Path:
    real = str(torchvision_src() / "torchvision")
    for name, text in TV_STUB_FILES.items():
        (TV_STUB / name).parent.mkdir(parents=True, exist_ok=True)
        (TV_STUB / name).write_text(text.format(real=real))
    return TV_STUB


def torchvision_sources() -> list:
    import re

    src = torchvision_src()
    TV_DIR.mkdir(parents=True, exist_ok=True)
    paths = []
    for module, function in sorted(TORCHVISION_MODELS.items()):
        text = (src / "torchvision" / "models" / f"{module}.py").read_text()
        text = re.sub(r"^from \.\.([\w.]*) import", lambda m: f"from torchvision{'.' + m.group(1) if m.group(1) else ''} import",
                      text, flags=re.MULTILINE)
        text = re.sub(r"^from \.([\w.]+) import", r"from torchvision.models.\1 import", text, flags=re.MULTILINE)
        call = (f"\n\nif __name__ == \"__main__\":\n    model = {function}()\n"
                f"    out = model(torch.randn(2, 3, {TV_SIZE}, {TV_SIZE}))\n")
        # the installed torchvision registered these builders already (@register_model refuses a
        # second registration); one line on top forgets them
        reset = "import torchvision.models._api as _registry; _registry.BUILTIN_MODELS.clear()\n"
        target = TV_DIR / f"{module}.py"
        target.write_text(reset + text.rstrip("\n") + call)
        paths.append(str(target))
    return paths


def settings_for(path: str):
    from shapelint.api import Settings

    real = Path(path).parent.name == REAL_DIR.name
    # the input goes to the script's own call only: the other builders in the file (ResNet101 next
    # to ResNet50, MobileNetV3Large next to Small) are not built by the runtime, so they get none
    return Settings(inputs={"<module>": (1, REAL_SIZE, REAL_SIZE, 3)}) if real else Settings()


def error_findings(source: str, path: str) -> list:
    from shapelint.api import lint_source

    result = lint_source(source, path, settings_for(path))
    return [(d.code, d.line, d.message) for d in result.diagnostics if d.severity == "error"]


def child_env(framework: str | None = None) -> dict:
    # fixtures that read datasets run on the test doubles (documented shapes, no downloads, short loops);
    # the torchvision and keras-apps studies need the real packages
    doubles = [str(REPO / "tests" / "doubles")] if framework in FIXTURES else []
    return dict(os.environ, PYTHONPATH=os.pathsep.join(doubles + [str(REPO), os.environ.get("PYTHONPATH", "")]),
                PYTHONWARNINGS="ignore", TF_CPP_MIN_LOG_LEVEL="3", OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")


def repair(result: dict, timeout: int = 20, python: str | None = None, progress=None) -> None:
    """Fix every mutant as ``check --fix --unsafe-fixes`` does and run the changed ones: sets each
    mutant's ``fixes`` (the messages of the applied fixes) and ``fixed_error`` (what the repaired
    program raised; None when it ran clean or nothing changed)."""
    import tempfile

    from shapelint.fixer import fix_source

    framework = result["framework"]
    child = {"keras-apps": "keras", "torchvision": "torch"}.get(framework, framework)
    changed = {}
    with tempfile.TemporaryDirectory(prefix="shapelint-repairs-") as folder:
        for index, mutant in enumerate(result["mutants"]):
            fixed = fix_source(mutant["source"], mutant["file"], settings_for(mutant["file"]), unsafe=True)
            mutant["fixes"] = [f"{d.code} {d.fix.message}" for d in fixed.applied]
            mutant["fixed_error"] = None
            if fixed.changed(mutant["source"]):
                path = os.path.join(folder, f"f{index}_{Path(mutant['file']).name}")
                Path(path).write_text(fixed.source)
                changed[path] = mutant
            if progress:
                progress(index + 1)
        if not changed:
            return
        command = [python or sys.executable, str(Path(__file__).resolve()), "--child", child, "run", "0",
                   str(timeout), *changed]
        proc = subprocess.run(command, capture_output=True, text=True, env=child_env(framework), cwd=REPO)
        ran = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode != 0 or len(ran) != len(changed):
            raise RuntimeError(f"{framework} repair child failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        for item in ran:
            changed[item["file"]]["fixed_error"] = item["error"]


def repair_score(mutants: list) -> dict:
    """Raising mutants the fixes repaired into programs that run; clean ones they touched or broke."""
    raised = [m for m in mutants if m["error"]]
    fixed = [m for m in raised if m["fixes"]]
    runs = [m for m in fixed if m["fixed_error"] is None]
    clean = [m for m in mutants if not m["error"]]
    touched = [m for m in clean if m["fixes"]]
    broken = [m for m in touched if m["fixed_error"] is not None]
    return {"raise": len(raised), "fixed": len(fixed), "runs": len(runs), "clean": len(clean),
            "touched": len(touched), "broken": len(broken)}


def repair_table(results: list) -> str:
    rows = ["framework  operator             raise  fixed  runs after fix  repaired  |  ran clean  touched  broken"]
    for result in results:
        mutants = scored(result["mutants"])
        by_op = defaultdict(list)
        for m in mutants:
            by_op[m["op"]].append(m)
        for op, group in sorted(by_op.items()) + [("ALL", mutants)]:
            s = repair_score(group)
            share = _pct(s["runs"] / s["raise"] if s["raise"] else None)
            rows.append(f"{result['framework']:<10} {op:<20} {s['raise']:>5} {s['fixed']:>6} {s['runs']:>15}   "
                        f"{share}  |  {s['clean']:>9} {s['touched']:>8} {s['broken']:>7}")
    return "\n".join(rows)


def study(framework: str = "torch", limit=None, seed: int = 0, timeout: int = 20, progress=None,
          python: str | None = None) -> dict:
    """Run the study for one framework: {"originals": [...], "mutants": [... with findings]}.
    ``keras-apps`` mutates Keras's own applications (see KERAS_APPS) with the Keras runtime."""
    if framework == "keras-apps":
        paths, child = keras_app_sources(), "keras"
    elif framework == "torchvision":
        paths, child = torchvision_sources(), "torch"
    else:
        paths, child = sorted(str(p) for p in FIXTURES[framework].glob("ok_*.py")), framework
    env = child_env(framework)
    if framework == "torchvision" and python is None:
        # run from the corpus wheel's sources (TV_STUB); shapelint reads torchvision's modules there too
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(torchvision_src()),
                                                                 os.environ.get("PYTHONPATH", "")]))
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(torchvision_stub()), os.environ["PYTHONPATH"]])
    command = [python or sys.executable, str(Path(__file__).resolve()), "--child", child,
               "-" if limit is None else str(limit), str(seed), str(timeout), *paths]
    originals, mutants = [], []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                          cwd=REPO) as proc:
        for line in proc.stdout:
            if not line.startswith("{"):
                continue
            item = json.loads(line)
            if item["kind"] == "original":
                item["findings"] = error_findings((REPO / item["file"]).read_text(), item["file"])
                originals.append(item)
            elif item["kind"] == "mutant":
                item["findings"] = error_findings(item["source"], item["file"])
                mutants.append(item)
                if progress:
                    progress(len(mutants))
        stderr = proc.stderr.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{framework} child failed ({proc.returncode}):\n{stderr[-4000:]}")
    return {"framework": framework, "originals": originals, "mutants": mutants}


def scored(mutants: list) -> list:
    """Mutants that count: not timed out."""
    return [m for m in mutants if not (m["error"] and m["error"]["type"] == "TimeoutError")]


def score(mutants: list) -> dict:
    raised = [m for m in mutants if m["error"]]
    reported = [m for m in mutants if m["findings"]]
    tp = [m for m in reported if m["error"]]
    return {"mutants": len(mutants), "raise": len(raised), "reported": len(reported), "tp": len(tp),
            "precision": len(tp) / len(reported) if reported else None,
            "recall": len(tp) / len(raised) if raised else None}


def _pct(value) -> str:
    return "   -  " if value is None else f"{100 * value:5.1f}%"


def table(results: list) -> str:
    rows = ["framework  operator             mutants  raise  reported  tp   precision  recall"]
    for result in results:
        mutants = scored(result["mutants"])
        by_op = defaultdict(list)
        for m in mutants:
            by_op[m["op"]].append(m)
        for op in sorted(by_op):
            s = score(by_op[op])
            rows.append(f"{result['framework']:<10} {op:<20} {s['mutants']:>7} {s['raise']:>6} {s['reported']:>9} "
                        f"{s['tp']:>4}   {_pct(s['precision'])}  {_pct(s['recall'])}")
        s = score(mutants)
        rows.append(f"{result['framework']:<10} {'ALL':<20} {s['mutants']:>7} {s['raise']:>6} {s['reported']:>9} "
                    f"{s['tp']:>4}   {_pct(s['precision'])}  {_pct(s['recall'])}")
    return "\n".join(rows)


def describe(m: dict) -> str:
    outcome = "runs clean" if not m["error"] else \
        f"raises {m['error']['type']} at line {m['error']['line']}: {m['error']['message'][:160]}"
    if m["error"] and m["error"].get("batch_dependent"):
        outcome += f" (runs clean with the unknown dims fed as {m['error']['batch_dependent']})"
    found = "; ".join(f"{c}@{l} {msg[:140]}" for c, l, msg in m["findings"]) or "no error finding"
    return (f"{m['file']}:{m['line']} [{m['op']}] {m['before']}  ->  {m['after']}\n"
            f"      runtime: {outcome}\n      shapelint: {found}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frameworks", default="torch",
                        help="comma-separated: torch,keras,tf,keras-apps (Keras's own applications), "
                             "torchvision (its model files, run from the corpus wheel's sources or under --python)")
    parser.add_argument("--python", default=None,
                        help="interpreter for the framework child (torchvision: one with torch 2.14.1, "
                             "torchvision 0.29.1 and libcst)")
    parser.add_argument("--limit", type=int, default=None, help="deterministic sample of N mutants per framework")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=int, default=20, help="seconds per mutant run")
    parser.add_argument("--json-out", default=None)
    parser.add_argument("--fix", action="store_true",
                        help="also repair every mutant (check --fix --unsafe-fixes) and run the repaired ones")
    args = parser.parse_args(argv)
    results = []
    for framework in [f.strip() for f in args.frameworks.split(",") if f.strip()]:
        if framework not in FIXTURES and framework not in ("keras-apps", "torchvision"):
            print(f"{framework}: not supported (only {', '.join(FIXTURES)}, keras-apps, torchvision)", file=sys.stderr)
            continue
        start = time.time()
        tty = sys.stderr.isatty()
        show = (lambda n: print(f"\r{framework}: {n} mutants", end="", file=sys.stderr)) if tty else None
        result = study(framework, args.limit, args.seed, args.timeout, progress=show,
                       python=args.python if framework == "torchvision" else None)
        if tty:
            print(file=sys.stderr)
        if args.fix:
            fixing = (lambda n: print(f"\r{framework}: {n} mutants repaired", end="", file=sys.stderr)) if tty else None
            repair(result, args.timeout, args.python if framework == "torchvision" else None, progress=fixing)
            if tty:
                print(file=sys.stderr)
        result["seconds"] = round(time.time() - start, 1)
        results.append(result)
    for result in results:
        bad = [o for o in result["originals"] if o["error"] or o["findings"]]
        print(f"== {result['framework']}: {len(result['originals'])} fixtures, {len(result['mutants'])} mutants, "
              f"{result['seconds']} s")
        for o in bad:
            print(f"   original not clean (skipped or suspicious): {o['file']}: {o['error']} {o['findings']}")
    print()
    print(table(results))
    for result in results:
        mutants = scored(result["mutants"])
        timeouts = len(result["mutants"]) - len(mutants)
        if timeouts:
            print(f"\n{result['framework']}: {timeouts} mutants timed out (not scored)")
        fps = [m for m in mutants if m["findings"] and not m["error"]]
        live = [m for m in mutants if m["ran"]]
        dead_fps = [m for m in fps if not m["ran"]]
        if dead_fps:
            s = score(live)
            print(f"\n{result['framework']}: {len(dead_fps)} of the false positives edit code the script never runs "
                  f"(the runtime cannot see those bugs); on the {len(live)} mutants of executed code: "
                  f"precision {_pct(s['precision']).strip()}, recall {_pct(s['recall']).strip()}")
        misses = [m for m in mutants if m["error"] and not m["findings"]]
        batch = [m for m in mutants if m["error"] and m["error"].get("batch_dependent")]
        if batch:
            firm = [m for m in mutants if not (m["error"] and m["error"].get("batch_dependent"))]
            s = score(firm)
            print(f"\n{result['framework']}: {len(batch)} raising mutants run clean when the unknown (batch) dims "
                  f"are fed another size ({sum(1 for m in batch if m['findings'])} of them reported); "
                  f"without them: precision {_pct(s['precision']).strip()}, recall {_pct(s['recall']).strip()}")
        print(f"\n-- {result['framework']}: false positives ({len(fps)})")
        for m in fps:
            print("  " + describe(m) + ("" if m["ran"] else "\n      (the edited code never runs in the script)"))
        print(f"\n-- {result['framework']}: misses ({len(misses)})")
        for m in misses:
            print("  " + describe(m))
        print(f"\n-- {result['framework']}: misses by file: "
              + ", ".join(f"{k} {v}" for k, v in Counter(Path(m['file']).name for m in misses).most_common()))
    if args.fix:
        print("\n== repairs (check --fix --unsafe-fixes), each repaired mutant run again")
        print(repair_table(results))
        for result in results:
            mutants = scored(result["mutants"])
            broken = [m for m in mutants if not m["error"] and m["fixes"]]
            print(f"\n-- {result['framework']}: clean mutants a fix touched ({len(broken)})")
            for m in broken:
                print("  " + describe(m) + f"\n      fixes: {m['fixes']}; after: {m['fixed_error']}")
            failed = [m for m in mutants if m["error"] and m["fixes"] and m["fixed_error"]]
            print(f"\n-- {result['framework']}: repaired mutants that still raise ({len(failed)})")
            for m in failed:
                print("  " + describe(m) + f"\n      fixes: {m['fixes']}\n      after: {m['fixed_error']}")
    if args.json_out:
        for result in results:
            for m in result["mutants"]:
                m.pop("source", None)
        Path(args.json_out).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
    else:
        sys.exit(main())
