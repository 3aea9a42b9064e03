"""From findings to runtime jobs: which model each error finding belongs to, which layer lines
count as "at or after" it, and a concrete input shape to run it on."""

from __future__ import annotations

import dataclasses
import os

from shapelint.api import Settings, lint_file
from shapelint.shapes.dims import Expr

RUNNERS = {"torch", "keras", "tf"}
UNSUPPORTED = "framework not supported by --confirm yet"
BATCH = 2  # not 1: BatchNorm in training mode rejects a batch of one
SPATIAL_CANDIDATES = (32, 64, 128, 224, 256, 16, 8)


def model_kind(model) -> str:
    import libcst as cst

    if model.name == "<module>":
        return "script"
    if isinstance(model.site, cst.FunctionDef):
        return "function"
    return "class" if isinstance(model.site, cst.ClassDef) else "variable"


def input_dtype(model) -> str:
    first = next((n for n in model.nodes if n.inputs), None)
    return "long" if first is not None and first.name in ("Embedding", "EmbeddingBag", "F.embedding") else "float"


def error_keys(result, settings: Settings) -> set:
    return {(d.code, d.line, d.column) for d in result.diagnostics if d.severity == "error"}


def concrete_input(path: str, model, settings: Settings, wanted: set, original: set):
    """A concrete input shape for ``model`` and a note naming the sizes chosen for its symbols.

    Symbolic sizes get the smallest candidate for which the static analysis, rerun on that shape,
    still reports the findings being confirmed and no new error (no collapse, no mismatch).
    """
    shape = model.input
    if shape is None:
        return None, ""
    if model.framework == "keras" and shape and shape[0] is None:
        # keras.Input takes an unknown batch as it is: only the other dims need values.
        if all(isinstance(d, int) for d in shape[1:]):
            return list(shape), ""
        inner, chosen = concrete_input(path, dataclasses.replace(model, input=(1, *shape[1:])), settings, wanted,
                                       original)
        return (None if inner is None else [None, *inner[1:]]), chosen
    symbols = set()
    for d in shape:
        if isinstance(d, Expr):
            symbols |= d.symbols()
    if not symbols and all(isinstance(d, int) for d in shape):
        return list(shape), ""
    batch = shape[0].name if shape and isinstance(shape[0], Expr) and shape[0].op == "sym" else None
    rest = sorted(symbols - {batch})

    def build(size: int):
        env = {name: size for name in rest}
        if batch:
            env[batch] = BATCH
        dims = []
        for i, d in enumerate(shape):
            if isinstance(d, Expr):
                dims.append(d.evaluate(env))
            elif d is None:
                dims.append(BATCH if i == 0 else size)
            else:
                dims.append(d)
        return dims

    def describe(size: int) -> str:
        named = [f"{batch}={BATCH}"] if batch else [f"batch={BATCH}"] if shape[0] is None else []
        if rest:
            named.append(f"{'='.join(rest)}={size}")
        return "chosen for the symbolic sizes: " + ", ".join(named)

    if not rest and all(d is not None for d in shape[1:]):
        return build(0), describe(0)
    for size in _accepted_sizes(model, rest) + list(SPATIAL_CANDIDATES):
        dims = build(size)
        if any(d <= 0 for d in dims):
            continue
        again = lint_file(path, dataclasses.replace(settings, inputs={**settings.inputs, f"{path}:{model.name}": dims}))
        keys = error_keys(again, settings)
        if wanted <= keys and keys <= original:
            return dims, describe(size)
    return build(64), describe(64)


def _accepted_sizes(model, names: list) -> list:
    """Up to three sizes (nearest 32 first) the input-size solver accepts for every one of
    ``names``: a model that runs on some sizes only is run on one of them."""
    from shapelint.shapes.solve import solve

    solution = model.solution if model.solution is not None else solve(model)
    if solution is None or not names or any(solution.accepted.get(name) is None for name in names):
        return []
    common = set.intersection(*(set(solution.accepted[name]) for name in names))
    return sorted(common, key=lambda size: (abs(size - 32), size))[:3]


def runner_for(model, models: list) -> str:
    """Which child runs ``model``: its framework's, except that Keras layers in a file of raw
    TensorFlow (TF1 placeholders) run where that file can run, in the TensorFlow graph."""
    if model.framework == "keras" and any(m.framework == "tf" for m in models):
        return "tf"
    return model.framework


def ordinal(models: list, model) -> int:
    """How many models before this one the file's code built from the same class and input shape."""
    earlier = models[:models.index(model)]
    return sum(1 for m in earlier if m.name == model.name and m.input == model.input)


def model_lines(result, model) -> list:
    return [result.positions.span(node.call_site).line for node in model.nodes]


def plan(diagnostics, settings: Settings, on_framework=None):
    """(jobs per framework, links (diagnostic, job id, node index), outcomes decided without running).

    ``on_framework(name)`` is called when a framework gets its first job (to start its child early).
    """
    from shapelint.rules import RULES, model_findings

    jobs: dict = {}
    links = []
    decided = {}
    by_path: dict = {}
    for diag in diagnostics:
        if diag.severity == "error" and diag.code != "SL000":
            by_path.setdefault(diag.path, []).append(diag)
    next_id = 0
    for path, diags in by_path.items():
        if path.endswith(".ipynb"):
            for diag in diags:
                decided[id(diag)] = (None, "notebooks are not run by --confirm")
            continue
        result = lint_file(path, settings, want_models=True)
        original = error_keys(result, settings)
        span = result.positions.span if result.positions else None
        per_model: dict = {}
        for model in result.models:
            for finding in model_findings(model):
                if RULES[finding.code].severity != "error" or finding.node is None or span is None:
                    continue
                where = span(finding.site)
                for diag in diags:
                    if (diag.code, diag.line, diag.column) == (finding.code, where.line, where.column) \
                            and finding.node in model.nodes:
                        per_model.setdefault(id(model), (model, []))[1].append((diag, model.nodes.index(finding.node)))
        for model, found in per_model.values():
            if model.framework not in RUNNERS:
                for diag, _ in found:
                    decided.setdefault(id(diag), (None, UNSUPPORTED))
                continue
            kind = model_kind(model)
            wanted = {(d.code, d.line, d.column) for d, _ in found}
            shape, chosen = (None, "") if kind == "script" else concrete_input(path, model, settings, wanted, original)
            job = {"id": next_id, "path": os.path.abspath(path), "model": model.name, "kind": kind,
                   "source": model.input_source, "input": shape, "chosen": chosen, "dtype": input_dtype(model),
                   "lines": model_lines(result, model), "findings": sorted({index for _, index in found}),
                   "ordinal": ordinal(result.models, model)}
            if kind != "script" and shape is None:
                for diag, _ in found:
                    decided.setdefault(id(diag), (None, "no input shape to run the model on"))
                continue
            runner = runner_for(model, result.models)
            if runner not in jobs and on_framework is not None:
                on_framework(runner)
            jobs.setdefault(runner, []).append(job)
            links.extend((diag, next_id, index, model.framework) for diag, index in found)
            next_id += 1
        for diag in diags:
            if id(diag) not in decided and not any(link[0] is diag for link in links):
                decided[id(diag)] = (None, "no model to run for this finding")
    return jobs, links, decided


RANK = {True: 2, False: 1, None: 0}


def confirm_diagnostics(diagnostics, settings: Settings | None = None, timeout: float = 30.0) -> None:
    """Set ``confirmed`` / ``runtime`` on every error finding by running its model."""
    from shapelint.confirm.process import Session

    settings = settings or Settings()
    results = {}
    with Session() as session:
        jobs, links, decided = plan(diagnostics, settings, on_framework=session.prepare)
        for framework, framework_jobs in jobs.items():
            results.update(session.run(framework, framework_jobs, timeout))
    outcomes: dict = {}
    for diag, job_id, index, framework in links:
        result = results.get(job_id, {"failed": "no result from the runtime"})
        if "failed" in result or "internal" in result:
            outcome = (None, result.get("failed") or f"internal error in --confirm: {result['internal']}", None)
        else:
            match = next((f for f in result.get("findings", []) if f["index"] == index), None)
            outcome = (None, "no result from the runtime", None) if match is None \
                else (match["confirmed"], match["runtime"], framework)
        best = outcomes.get(id(diag))
        if best is None or RANK[outcome[0]] > RANK[best[0]]:
            outcomes[id(diag)] = outcome
    for diag in diagnostics:
        if id(diag) in outcomes:
            diag.confirmed, diag.runtime, framework = outcomes[id(diag)]
            if diag.confirmed is not None:
                diag.runtime_framework = framework
        elif id(diag) in decided:
            diag.confirmed, diag.runtime = decided[id(diag)]
