"""Ground truth: every fixture run under real torch agrees with shapelint.

One subprocess imports torch once and runs every fixture (``runpy``, fresh namespace each),
observing:

* every ``nn.Module`` call (global forward pre-/post-hooks) with the line that runs it: the
  fixture line that calls the module, or, when torch's own container code calls it (a
  ``Sequential`` entry), the fixture line where the module was constructed;
* every torch function / tensor method (``TorchFunctionMode``) called from a fixture line
  (not from inside a module's ``forward`` implemented by torch);
* whether the script raised, and the fixture line where it failed (the innermost fixture frame
  of the traceback; or the entry line of the torch module that raised when a ``Sequential`` ran
  it); an error while constructing a layer fails at the construction line.

Classes marked ``# shapelint: input=(...)`` are also instantiated and called on a tensor of that
shape after the script, as shapelint analyses them with that input.

The test then asserts that torch raises iff a fixture expects an error-severity finding, that it
fails at the line of shapelint's faulty node, and that every layer shape shapelint reports as
fully known (up to that faulty node) equals a shape torch produced at that line.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "torch"
ALL = sorted(FIXTURES.glob("*.py"))
EXPECT = re.compile(r"#\s*(SL\d{3}(?:[\s,]+SL\d{3})*)\s*$")


# The probe (runs in the subprocess) lives with --confirm, which attributes layers to lines the same way.
from shapelint.confirm.torch_runtime import probe  # noqa: E402


# ----- the tests ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def runtime() -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, __file__, *map(str, ALL)], capture_output=True, text=True,
                          env=env, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _expected_codes(path: Path) -> set:
    found = set()
    for text in path.read_text().splitlines():
        match = EXPECT.search(text)
        if match:
            found |= set(re.split(r"[\s,]+", match.group(1)))
    return found


def _analysis(path: Path):
    from shapelint.api import Settings, lint_file
    from shapelint.rules import RULES, model_findings

    settings = Settings()
    result = lint_file(str(path), settings, want_models=True)
    findings = [f for model in result.models for f in model_findings(model)
                if settings.enabled(f.code) and RULES[f.code].severity == "error"]
    return result, findings


def _layers(result) -> list:
    """(model, op, line, output shape as in ``shapes --format json``, speculative) for every layer
    torch reaches.

    A model's layers are listed in the order they run; after a layer that makes torch raise
    (including a layer whose construction raises) nothing more of that model runs.  A speculative
    layer sits behind a condition shapelint could not decide: it may or may not run.
    """
    from shapelint.shapes.dims import json_shape

    layers = []
    for model in result.models:
        for node in model.nodes:
            if not node.speculative and any(p.fatal for p in node.problems):
                break
            if node.inputs:
                layers.append((model.name, node.name, result.positions.span(node.call_site).line,
                               json_shape(node.output), node.speculative))
    return layers


def _op_key(name: str) -> str:
    """``F.relu`` / ``torch.relu`` / ``relu_`` / ``Tensor.view`` / ``__iadd__`` -> ``relu`` / ``view`` / ``add``."""
    key = name.rsplit(".", 1)[-1].strip("_").lower()
    if key.startswith(("i", "r")) and key[1:] in ("add", "sub", "mul", "truediv", "div"):
        key = key[1:]
    return {"truediv": "div"}.get(key, key)


def _same_op(static: str, runtime: str) -> bool:
    return _op_key(static) == _op_key(runtime)


def _known(shape) -> bool:
    return isinstance(shape, list) and all(isinstance(d, int) for d in shape[1:]) \
        and (not shape or shape[0] is None or isinstance(shape[0], int))


def _matches(static: list, real: list) -> bool:
    return len(static) == len(real) and all(s is None or s == r for s, r in zip(static, real)) \
        and all(s is not None for s in static[1:])


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_runtime_agrees(path: Path, runtime: dict):
    from shapelint.rules import RULES

    run = runtime[str(path)]
    codes = _expected_codes(path)
    errors = {c for c in codes if RULES[c].severity == "error"}
    error = run["error"]
    if errors:
        assert error is not None, f"expected torch to raise ({sorted(errors)}), but the script ran clean"
    else:
        assert error is None, f"torch raised on a fixture without error expectations: {error}"

    result, findings = _analysis(path)
    if error is not None:
        lines = {result.positions.span(f.node.call_site).line for f in findings if f.node is not None}
        assert lines == {error["failing"]}, (
            f"shapelint's faulty node runs at {sorted(lines)}; torch failed at line {error['failing']} "
            f"({error['type']}: {error['message']}; traceback lines {error['lines']})")

    observed: dict = {}
    for line, kind, shape in run["observed"]:
        observed.setdefault(line, []).append((kind, shape))
    if error is not None and all(not f.node.inputs for f in findings):
        return  # torch raised while constructing a layer: no forward ran, there are no shapes to compare
    checked = 0
    for model, op, line, shape, speculative in _layers(result):
        if not _known(shape):
            continue
        real = observed.get(line, [])
        if speculative and not any(_same_op(op, kind) for kind, _ in real):
            continue  # behind a condition shapelint could not decide, and torch did not take it
        assert any(_same_op(op, kind) and _matches(shape, r) for kind, r in real), (
            f"{model}: {op} at line {line} -> {shape}; torch produced {real or 'nothing'} there")
        checked += 1
    if path.name.startswith("ok_"):
        assert checked, "a clean fixture should have at least one layer with a fully known shape"


def _shapes_json(path: Path) -> list:
    from click.testing import CliRunner

    from shapelint.cli import cli

    outcome = CliRunner().invoke(cli, ["shapes", str(path), "--format", "json"])
    assert outcome.exit_code == 0, outcome.output
    return json.loads(outcome.output)


def _ops_at(models: list, model: str) -> list:
    return [(layer["op"], layer["output_shape"]) for m in models if m["model"] == model for layer in m["layers"]]


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_shapes_json_is_what_was_checked(path: Path):
    """``shapes --format json`` shows exactly the layers (line, op, output) the runtime test compares."""
    from shapelint.api import lint_file
    from shapelint.shapes.dims import json_shape

    result = lint_file(str(path), want_models=True)
    static = [(m.name, n.name, result.positions.span(n.call_site).line, json_shape(n.output))
              for m in result.models for n in m.nodes if n.inputs]
    shown = [(m["model"], layer["op"], layer["line"], layer["output_shape"])
             for m in _shapes_json(path) for layer in m["layers"]]
    assert shown == static
    assert all(layer[:4] in static for layer in _layers(result))


def test_lenet_shapes_in_json(runtime: dict):
    path = FIXTURES / "ok_lenet.py"
    models = _shapes_json(path)
    pools = [shape for op, shape in _ops_at(models, "Net") if op == "MaxPool2d"]
    assert pools == [[1, 6, 14, 14], [1, 16, 5, 5]]
    observed = [shape for _, kind, shape in runtime[str(path)]["observed"] if kind == "MaxPool2d"]
    assert observed == pools


def test_lesson_conv_in_json(runtime: dict):
    path = FIXTURES / "ok_lesson_conv.py"
    models = _shapes_json(path)
    (conv,) = [layer for m in models for layer in m["layers"] if layer["op"] == "Conv2d"]
    assert conv["input_shape"] == [1, 3, 32, 32] and conv["output_shape"] == [1, 20, 14, 14]
    observed = [[line, shape] for line, kind, shape in runtime[str(path)]["observed"] if kind == "Conv2d"]
    assert observed == [[conv["line"], [1, 20, 14, 14]]]


if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1:])))
