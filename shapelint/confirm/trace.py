"""``shapelint shapes --trace``: static and runtime shapes per layer, side by side."""

from __future__ import annotations

import dataclasses
import os
import re

from shapelint.api import Settings, lint_file
from shapelint.confirm.plan import (
    RUNNERS, UNSUPPORTED, input_dtype, error_keys, model_lines, concrete_input, model_kind, ordinal, runner_for,
)
from shapelint.shapes.dims import Expr, json_shape


def _op_key(name: str) -> str:
    """``F.max_pool2d`` / ``max_pool2d`` / ``tf.nn.max_pool`` / ``MaxPool`` / ``__iadd__`` -> comparable keys."""
    key = name.replace(" (@)", "").rsplit(".", 1)[-1].strip("_").lower()
    if key.startswith(("i", "r")) and key[1:] in ("add", "sub", "mul", "truediv", "div"):
        key = key[1:]
    return re.sub(r"[^a-z0-9]", "", {"truediv": "div"}.get(key, key))


def _known(shape) -> bool:
    return isinstance(shape, list) and all(isinstance(d, int) for d in shape[1:]) \
        and (not shape or shape[0] is None or isinstance(shape[0], int))


def _same(static: list, real) -> bool:
    return isinstance(real, list) and len(static) == len(real) \
        and all(s is None or s == r for s, r in zip(static, real))


def match_layers(layers: list, observed: list) -> None:
    """Give each static layer the runtime shape of the same op at the same line (in run order)."""
    at_line: dict = {}
    for line, op, shape in observed:
        at_line.setdefault(line, []).append([_op_key(op), shape, False])
    for layer in layers:
        candidates = at_line.get(layer["line"], [])
        key = _op_key(layer["op"])
        static = layer["output_shape"]
        unused = [c for c in candidates if not c[2]]
        same_op = [c for c in unused if c[0] == key or c[0].startswith(key) or key.startswith(c[0])]
        # A function run twice (or a layer shared) has several runs on one line: prefer the run
        # whose shape agrees, so only a line where no run agrees is marked.
        chosen = next((c for c in same_op if _known(static) and _same(static, c[1])), None) \
            or (same_op[0] if same_op else None) \
            or next((c for c in unused if _known(static) and _same(static, c[1])), None) \
            or (unused[0] if unused else None)
        if chosen is not None:
            chosen[2] = True
        runtime = chosen[1] if chosen is not None else None
        layer["runtime_output_shape"] = runtime
        if runtime is None or not _known(static):
            layer["agrees"] = None
        else:
            layer["agrees"] = _same(static, runtime) or any(_same(static, c[1]) for c in candidates)


def _is_declared(d) -> bool:
    return isinstance(d, Expr) and d.op == "sym" and d.declared_none


def _declares_none(model) -> bool:
    return any(_is_declared(d) for d in model.input or ())


def trace(path: str, settings: Settings | None = None, timeout: float = 30.0) -> list:
    """``shapes --format json`` models, each layer with ``runtime_output_shape`` and ``agrees``."""
    return trace_paths([path], settings, timeout)


def _static_models(path: str, settings: Settings, first_id: int):
    """The file's models as ``shapes --format json`` entries, and the runtime job for each."""
    result = lint_file(path, settings, want_models=True)
    original = error_keys(result, settings)
    sources = {model.name: (model.input_source, json_shape(model.input)) for model in result.models}
    concrete: dict = {}
    for model in result.models:
        # Raw TensorFlow runs only as the module's own code calls it: nothing to concretize.
        # Sizes the code declares None stay symbols: Keras runs them as None, as the module does.
        if model_kind(model) != "script" and model.framework in RUNNERS \
                and runner_for(model, result.models) != "tf" and not _declares_none(model):
            shape, chosen = concrete_input(path, model, settings, set(), original)
            if shape is not None and chosen:
                concrete[model.name] = (shape, chosen)
    if concrete:
        # Static shapes on the same concrete input the runtime gets.
        inputs = {**settings.inputs, **{f"{path}:{name}": shape for name, (shape, _) in concrete.items()}}
        result = lint_file(path, dataclasses.replace(settings, inputs=inputs), want_models=True)
    span = result.positions.span if result.positions else None
    entries = []
    for number, model in enumerate(result.models, start=first_id):
        layers = []
        for node in model.nodes:
            if node.inputs:
                where = span(node.call_site)
                layers.append({"line": where.line, "column": where.column, "op": node.name,
                               "input_shape": json_shape(node.inputs[0]), "output_shape": json_shape(node.output)})
        source, declared = sources.get(model.name, (model.input_source, json_shape(model.input)))
        entry = {"path": path, "model": model.name, "framework": model.framework, "input": declared,
                 "input_source": source, "layers": layers, "runtime": None}
        job = None
        if model.framework not in RUNNERS:
            entry["runtime"] = {"skipped": UNSUPPORTED}
        elif path.endswith(".ipynb"):
            entry["runtime"] = {"skipped": "notebooks are not run by --trace"}
        else:
            kind = model_kind(model)
            shape = None
            if kind != "script" and model.input is not None and all(isinstance(d, int) for d in model.input[1:]) \
                    and (isinstance(model.input[0], int) or model.framework == "keras" and model.input[0] is None):
                shape = list(model.input)
            if kind != "script" and model.framework == "keras" and _declares_none(model) \
                    and all(isinstance(d, int) or _is_declared(d) for d in model.input[1:]):
                shape = [None if not isinstance(d, int) else d for d in model.input]
            job = {"id": number, "path": os.path.abspath(path), "model": model.name, "kind": kind,
                   "source": model.input_source, "input": shape, "chosen": concrete.get(model.name, (None, ""))[1],
                   "dtype": input_dtype(model), "lines": model_lines(result, model), "findings": [],
                   "ordinal": ordinal(result.models, model),
                   "framework": runner_for(model, result.models)}
        entries.append((entry, job))
    return entries


def trace_paths(paths: list, settings: Settings | None = None, timeout: float = 30.0) -> list:
    """``trace`` for many files, with one child process per framework for all of them."""
    from shapelint.confirm.process import Session

    settings = settings or Settings()
    entries = []
    jobs: dict = {}
    answers = {}
    with Session() as session:
        for path in paths:
            found = _static_models(path, settings, len(entries))
            entries.extend(found)
            for _, job in found:
                if job is not None:
                    session.prepare(job["framework"])  # the framework imports while the rest is analysed
                    jobs.setdefault(job["framework"], []).append(job)
        for framework, framework_jobs in jobs.items():
            answers.update(session.run(framework, framework_jobs, timeout, mode="trace"))
    out = []
    for entry, job in entries:
        out.append(entry)
        if job is None:
            continue
        answer = answers.get(job["id"], {"failed": "no result from the runtime"})
        runtime = {key: answer[key] for key in ("device", "error", "skipped", "failed") if key in answer}
        if "internal" in answer:
            runtime["failed"] = f"internal error in --trace: {answer['internal']}"
        if job["chosen"]:
            runtime["input"] = job["chosen"]
        entry["runtime"] = runtime
        match_layers(entry["layers"], answer.get("observed", []))
        if answer.get("input_used") and answer["input_used"] != job["input"]:
            # The module built the model for another input than the sizes chosen for the static side.
            runtime["input"] = f"{_show(answer['input_used'])}, the shape the module built the model for"
            for layer in entry["layers"]:
                layer["agrees"] = None
    return out


def _show(shape) -> str:
    if shape is None:
        return "?"
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def render(models: list) -> str:
    lines = []
    for model in models:
        runtime = model["runtime"] or {}
        head = f"{model['path']}: {model['model']} ({model['framework']}), input {_show(model['input'])} " \
               f"[{model['input_source']}]"
        if runtime.get("input"):
            head += f"; runtime input: {runtime['input']}"
        lines.append(head)
        problem = runtime.get("skipped") or runtime.get("failed")
        if problem:
            lines.append(f"  runtime not run: {problem}")
        lines.append(f"  {'line':<9}  {'op':<20} {'input':>22} -> {'static output':<22}    runtime output")
        for layer in model["layers"]:
            mark = {True: "==", False: "!=", None: "  "}[layer.get("agrees")]
            real = _show(layer.get("runtime_output_shape")) if "runtime_output_shape" in layer else "-"
            if layer.get("runtime_output_shape") is None:
                real = "-"
            lines.append(f"  line {layer['line']:>4}  {layer['op']:<20} {_show(layer['input_shape']):>22} -> "
                         f"{_show(layer['output_shape']):<22} {mark} {real}")
        error = runtime.get("error")
        if error:
            where = f" at line {error['line']}" if error.get("line") else ""
            lines.append(f"  runtime raised{where}: {error['text']}")
        disagreements = sum(1 for layer in model["layers"] if layer.get("agrees") is False)
        if disagreements:
            lines.append(f"  {disagreements} {'layers disagree' if disagreements != 1 else 'layer disagrees'} (!=)")
    return "\n".join(lines) + ("\n" if lines else "")
