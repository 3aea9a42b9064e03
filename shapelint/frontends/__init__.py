"""Frontends turn a parsed module into model graphs, one module per framework.

``FRONTENDS`` maps a frontend module to the import roots that make it worth running; a file
that imports none of them is never interpreted.  Each frontend module exposes
``analyse(module, inputs, text=None) -> list[Model]``.
"""

from __future__ import annotations

import importlib

import libcst as cst

from shapelint.parse import import_bindings

FRONTENDS = (
    ("shapelint.frontends.torch", ("torch",)),
    ("shapelint.frontends.keras", ("keras", "tensorflow", "tf_keras")),
    ("shapelint.frontends.tfnn", ("tensorflow",)),
)
IMPORT_ROOTS = tuple(sorted({root for _, roots in FRONTENDS for root in roots}))
# Roots whose frontend also analyses every module-level function the file never calls, on a
# tensor argument (tf.nn's ``analyse_uncalled``): such a function may be a model without naming
# the framework (``def proj(x): return x @ x``), so pruning keeps every function there.
FUNCTION_ROOTS = ("tensorflow",)


def imported_roots(module: cst.Module) -> set:
    roots = set()

    def scan(body):
        for stmt in body:
            # a statement line, or the body of a one-line suite (``try: import torch``)
            smalls = stmt.body if isinstance(stmt, cst.SimpleStatementLine) else [stmt]
            if isinstance(stmt, (cst.SimpleStatementLine, cst.BaseSmallStatement)):
                for small in smalls:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        roots.update(qual.split(".")[0] for _, qual in import_bindings(small))
                    if isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar) \
                            and not small.relative and small.module is not None:
                        # from keras.layers import *: the names are unknown, the framework is not
                        roots.add(cst.Module([]).code_for_node(small.module).split(".")[0])
            elif isinstance(stmt, (cst.If, cst.Try)):
                scan(stmt.body.body)
                for extra in getattr(stmt, "handlers", ()):
                    scan(extra.body.body)
                orelse = getattr(stmt, "orelse", None)
                if orelse is not None and hasattr(orelse, "body") and hasattr(orelse.body, "body"):
                    scan(orelse.body.body)

    scan(module.body)
    return roots


def analyse(module: cst.Module, inputs: dict, text: str | None = None) -> list:
    """``text``: the file's source, when ``module`` was parsed from a pruned copy of it."""
    roots = imported_roots(module)
    models = []
    for name, wanted in FRONTENDS:
        if roots.intersection(wanted):
            models.extend(importlib.import_module(name).analyse(module, inputs, text))
    return models
