"""Raw tf.nn code: fixture expectations, and ground truth from real TensorFlow.

Every ``fixtures/tf/*.py`` carries its expectations inline (``# SL101`` at the end of the line of
the faulty op call; ``ok_*`` fixtures none).  One subprocess imports TensorFlow once and runs
every fixture in TF1 graph mode: ``import tensorflow`` inside a fixture gets ``tf.compat.v1``
(falling back to the TF2 namespace for names v1 lacks), and ``tf.layers.flatten`` /
``tf.contrib.layers.flatten``, gone from TensorFlow 2.21, are ``tf.keras.layers.Flatten()``.
For each fixture the probe records

* every graph operation the fixture created, with the fixture line that created it (the
  innermost fixture frame of ``op.traceback``), its type and its static output shape;
* whether building the graph raised, and at which fixture line;
* whether running the graph once (float placeholders fed 0.5 so a fed keep_prob is legal,
  integer ones 0, unknown dims as 3, unknown ranks as scalars) raised, and at which fixture line
  the failing op was created: several checks (strides over the batch, transposed-conv output
  depths) are made by the kernels, not at graph construction.

A grid of conv2d / max_pool geometries (sizes, kernels, strides, SAME / VALID / explicit padding,
dilations) is built in the same subprocess and compared with shapelint's shape functions.

The tests assert that TensorFlow raises iff a fixture expects an error-severity finding, that it
fails at the line shapelint reports, and that every op shape shapelint knows fully (batch may be
unknown) equals the static shape TensorFlow computed for an op of the same kind on that line.
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
FIXTURES = ROOT / "fixtures" / "tf"
ALL = sorted(FIXTURES.glob("*.py"))
EXPECT = re.compile(r"#\s*(SL\d{3}(?:[\s,]+SL\d{3})*)\s*$")

# shapelint op name -> TensorFlow op types that op creates as its result.
TF_TYPES = {
    "tf.nn.conv2d": {"Conv2D", "Reshape"},  # Reshape: the result with extra batch dims
    "tf.nn.depthwise_conv2d": {"DepthwiseConv2dNative", "BatchToSpaceND"},
    "tf.nn.conv2d_transpose": {"Conv2DBackpropInput"},
    "tf.nn.atrous_conv2d": {"BatchToSpaceND", "Conv2D"}, "tf.nn.separable_conv2d": {"Conv2D"},
    "tf.nn.max_pool": {"MaxPool"}, "tf.nn.max_pool2d": {"MaxPool"},
    "tf.nn.avg_pool": {"AvgPool"}, "tf.nn.avg_pool2d": {"AvgPool"},
    "tf.nn.bias_add": {"BiasAdd"},
    "tf.matmul": {"MatMul", "BatchMatMulV2"}, "matmul (@)": {"MatMul", "BatchMatMulV2"},
    "tf.reshape": {"Reshape"},
    "tf.layers.flatten": {"Reshape"}, "tf.contrib.layers.flatten": {"Reshape"},
    "tf.keras.layers.Flatten": {"Reshape"},
    "add": {"AddV2", "Add"}, "tf.add": {"AddV2", "Add"},
    "sub": {"Sub"}, "mul": {"Mul"}, "div": {"RealDiv"},
    "tf.nn.relu": {"Relu"}, "tf.nn.relu6": {"Relu6"}, "tf.nn.sigmoid": {"Sigmoid"}, "tf.nn.tanh": {"Tanh"},
    "tf.nn.softmax": {"Softmax"}, "tf.nn.dropout": {"Mul", "SelectV2"}, "tf.nn.lrn": {"LRN"},
    "tf.nn.elu": {"Elu"}, "tf.nn.leaky_relu": {"LeakyRelu"}, "tf.concat": {"ConcatV2"},
}


# ----- the probe (runs in the subprocess) ---------------------------------------------------------


def _fixture_line(frames, path):
    lines = [frame.lineno for frame in frames if frame.filename == path]
    return lines[-1] if lines else None


def window_cases() -> list:
    """A grid of conv2d / max_pool geometries, each built by TensorFlow and by shapelint."""
    cases = []
    explicit = [[0, 0], [1, 2], [0, 1], [0, 0]]
    for size in (1, 2, 3, 4, 5, 7, 8, 9, 13, 32):
        for kernel in (1, 2, 3, 5):
            for stride in (1, 2, 3):
                for padding in ("SAME", "VALID", explicit):
                    for dilation in (1, 2):
                        cases.append({"op": "conv2d", "x": [1, size, size + 1, 2], "filter": [kernel, kernel, 2, 3],
                                      "strides": [1, stride, stride, 1], "padding": padding,
                                      "dilations": [1, dilation, dilation, 1]})
                    cases.append({"op": "max_pool", "x": [1, size, size + 1, 2], "ksize": [1, kernel, kernel, 1],
                                  "strides": [1, stride, stride, 1], "padding": padding})
    return cases


def probe_windows(tf) -> list:
    results = []
    graph = tf.Graph()
    with graph.as_default():
        for case in window_cases():
            x = tf.zeros(case["x"])
            try:
                if case["op"] == "conv2d":
                    out = tf.compat.v1.nn.conv2d(x, tf.zeros(case["filter"]), case["strides"], case["padding"],
                                                 dilations=case["dilations"])
                else:
                    out = tf.compat.v1.nn.max_pool(x, case["ksize"], case["strides"], case["padding"])
                results.append(out.shape.as_list())
            except ValueError:
                results.append("error")
    return results


def probe(paths: list) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import runpy
    import traceback

    import numpy as np
    import tensorflow as tf

    from shapelint.confirm.tf_runtime import tf1_namespace

    v1 = tf.compat.v1
    v1.disable_eager_execution()

    shim, extra_modules = tf1_namespace(tf)
    real = {name: sys.modules.get(name) for name in ["tensorflow", *extra_modules]}

    results = {}
    for path in paths:
        path = os.path.abspath(path)
        graph = tf.Graph()
        error = None
        observed = []
        sys.modules.update({"tensorflow": shim, **extra_modules})
        try:
            with graph.as_default():
                v1.set_random_seed(0)
                try:
                    runpy.run_path(path, run_name="__main__")
                except Exception as exc:  # noqa: BLE001 - the point is to see what TensorFlow raises
                    entries = traceback.extract_tb(exc.__traceback__)
                    error = {"stage": "build", "type": type(exc).__name__,
                             "message": (str(exc).splitlines() or [""])[0][:300],
                             "failing": _fixture_line(entries, path)}
                fetches = []
                for op in graph.get_operations():
                    line = _fixture_line(op.traceback, path)
                    if line is None or not op.outputs:
                        continue
                    out = op.outputs[0]
                    shape = out.shape.as_list() if out.shape.rank is not None else None
                    observed.append([line, op.type, shape])
                    if out.dtype != tf.resource and op.type not in ("Placeholder", "VarHandleOp", "Const"):
                        fetches.append(out)
                if error is None and fetches:
                    feed = {}
                    for op in graph.get_operations():
                        if op.type == "Placeholder":
                            out = op.outputs[0]
                            dims = out.shape.as_list() if out.shape.rank is not None else []
                            size = [3 if d is None else d for d in dims]
                            # 0.5 keeps a fed keep_prob / rate legal; integer labels get 0.
                            feed[out] = np.full(size, 0.5 if out.dtype.is_floating else 0,
                                                dtype=out.dtype.as_numpy_dtype)
                    init = v1.global_variables_initializer()
                    with v1.Session(graph=graph) as session:
                        try:
                            session.run(init)
                            session.run(fetches, feed)
                        except tf.errors.OpError as exc:
                            failing = _fixture_line(exc.op.traceback, path) if exc.op is not None else None
                            error = {"stage": "run", "type": type(exc).__name__,
                                     "message": (exc.message.splitlines() or [""])[0][:300], "failing": failing}
        finally:
            for name, module in real.items():
                if module is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = module
        results[path] = {"error": error, "observed": observed}
    results["windows"] = probe_windows(tf)
    return results


# ----- the tests ----------------------------------------------------------------------------------


def expectations(path: Path) -> set:
    found = set()
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        match = EXPECT.search(text)
        if match:
            found |= {(number, code) for code in re.split(r"[\s,]+", match.group(1))}
    return found


@pytest.fixture(scope="session")
def runtime() -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PYTHONWARNINGS="ignore", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, __file__, *map(str, ALL)], capture_output=True, text=True,
                          env=env, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _analysis(path: Path):
    from shapelint.api import Settings, lint_file
    from shapelint.rules import RULES, model_findings

    settings = Settings()
    result = lint_file(str(path), settings, want_models=True)
    findings = [f for model in result.models for f in model_findings(model)
                if settings.enabled(f.code) and RULES[f.code].severity == "error"]
    return result, findings


def _layers(result) -> list:
    """(model, op, line, output shape as in ``shapes --format json``) for every tf op shapelint recorded."""
    from shapelint.shapes.dims import json_shape

    layers = []
    for model in result.models:
        if model.framework != "tf":
            continue
        for node in model.nodes:
            if node.speculative or any(p.fatal for p in node.problems) or not node.inputs:
                continue
            layers.append((model.name, node.name, result.positions.span(node.call_site).line,
                           json_shape(node.output)))
    return layers


def _known(shape) -> bool:
    return isinstance(shape, list) and all(isinstance(d, int) for d in shape[1:]) \
        and (not shape or shape[0] is None or isinstance(shape[0], int))


def _matches(static: list, real: list | None) -> bool:
    return real is not None and len(static) == len(real) and all(s == r for s, r in zip(static, real))


def test_fixture_set_is_substantial():
    assert len(ALL) >= 20
    assert all(p.name.startswith(("ok_", "bug_")) for p in ALL)
    assert sum(p.name.startswith("bug_") for p in ALL) >= 10


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_fixture_expectations(path: Path):
    from shapelint.api import lint_file

    expected = expectations(path)
    if path.name.startswith("ok_"):
        assert not expected, "a clean fixture carries no expectation"
    else:
        assert len(expected) == 1, "a buggy fixture names exactly one finding"
    result = lint_file(str(path))
    got = {(d.line, d.code) for d in result.diagnostics}
    details = "\n".join(f"{d.line}:{d.column}: {d.code} {d.message}" for d in result.diagnostics)
    assert got == expected, f"reported:\n{details}"


def test_every_tf_rule_is_covered():
    covered = {code for path in ALL for _, code in expectations(path)}
    for code in ("SL101", "SL102", "SL103", "SL104", "SL105", "SL201", "SL302", "SL303", "SL304"):
        assert code in covered, f"no tf fixture expects {code}"


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_tensorflow_agrees(path: Path, runtime: dict):
    from shapelint.rules import RULES

    run = runtime[str(path)]
    error = run["error"]
    errors = {(line, code) for line, code in expectations(path) if RULES[code].severity == "error"}
    if errors:
        assert error is not None, f"expected TensorFlow to raise ({sorted(errors)}), but the graph built and ran"
        assert {line for line, _ in errors} == {error["failing"]}, (
            f"shapelint expects the error at {sorted(errors)}; TensorFlow failed at line {error['failing']} "
            f"({error['stage']}: {error['type']}: {error['message']})")
    else:
        assert error is None, f"TensorFlow raised on a fixture without error expectations: {error}"

    result, findings = _analysis(path)
    if error is not None:
        lines = {result.positions.span(f.node.call_site).line for f in findings if f.node is not None}
        assert lines == {error["failing"]}

    observed: dict = {}
    for line, kind, shape in run["observed"]:
        observed.setdefault(line, []).append((kind, shape))
    checked = 0
    for model, op, line, shape in _layers(result):
        if not _known(shape) or (error is not None and error["stage"] == "build" and line not in observed):
            continue  # TensorFlow stops building at the faulty op: later lines made nothing
        kinds = TF_TYPES.get(op)
        real = [s for kind, s in observed.get(line, []) if kinds is None or kind in kinds]
        assert any(_matches(shape, r) for r in real), (
            f"{model}: {op} at line {line} -> {shape}; TensorFlow made {observed.get(line) or 'nothing'} there")
        checked += 1
    if path.name.startswith("ok_"):
        assert checked, "a clean fixture should have at least one op with a fully known shape"


def test_window_arithmetic_matches_tensorflow(runtime: dict):
    """Output sizes and collapse errors over a grid of sizes, kernels, strides, paddings, dilations."""
    from shapelint.shapes import tfnn_ops

    cases = window_cases()
    assert len(runtime["windows"]) == len(cases)
    mismatches = []
    for case, real in zip(cases, runtime["windows"]):
        x = tuple(case["x"])
        # The frontend hands op specs tuples, as it does for literal lists in the source.
        params = {k: (tuple(map(tuple, v)) if k == "padding" and isinstance(v, list) else
                      tuple(v) if isinstance(v, list) else v)
                  for k, v in case.items() if k not in ("op", "x", "filter")}
        if case["op"] == "conv2d":
            spec, inputs = tfnn_ops.Conv2D(), [x, tuple(case["filter"])]
        else:
            spec, inputs = tfnn_ops.Pool("tf.nn.max_pool", "max"), [x]
        problems = spec.check(params, inputs)
        mine = "error" if any(p.fatal for p in problems) else list(spec.infer(params, inputs))
        if mine != real:
            mismatches.append((case, mine, real))
    assert not mismatches, f"{len(mismatches)} of {len(cases)} differ, e.g. {mismatches[:3]}"


def _shapes_json(path: Path) -> list:
    from click.testing import CliRunner

    from shapelint.cli import cli

    outcome = CliRunner().invoke(cli, ["shapes", str(path), "--format", "json"])
    assert outcome.exit_code == 0, outcome.output
    return json.loads(outcome.output)


@pytest.mark.parametrize(("name", "expected"), [("ok_lesson_quiz.py", [None, 16, 16, 20]),
                                                ("ok_lesson_quiz_valid.py", [None, 13, 13, 20])])
def test_lesson_quiz_in_json(name, expected, runtime: dict):
    path = FIXTURES / name
    models = _shapes_json(path)
    (conv,) = [layer for m in models for layer in m["layers"] if layer["op"] == "tf.nn.conv2d"]
    assert models[0]["framework"] == "tf"
    assert conv["input_shape"] == [None, 32, 32, 3] and conv["output_shape"] == expected
    real = [shape for line, kind, shape in runtime[str(path)]["observed"] if kind == "Conv2D"]
    assert real == [expected]


def test_lenet_is_a_model_with_the_call_binding():
    models = _shapes_json(FIXTURES / "ok_lenet_tf1.py")
    (lenet,) = [m for m in models if m["model"] == "LeNet"]
    assert lenet["input"] == [None, 32, 32, 1] and lenet["input_source"] == "call in file"
    matmuls = [layer["output_shape"] for layer in lenet["layers"] if layer["op"] == "tf.matmul"]
    assert matmuls == [[None, 120], [None, 84], [None, 10]]


def test_stride_remainder_uses_tensorflow_padding():
    """SL203 (off by default): SAME pads the remainder away unless the kernel is smaller than the stride."""
    from shapelint.api import Settings, lint_source

    source = ("import tensorflow as tf\n"
              "x = tf.placeholder(tf.float32, [None, 28, 28, 6])\n"
              "a = tf.nn.conv2d(x, tf.zeros([5, 5, 6, 8]), [1, 2, 2, 1], 'VALID')\n"  # (28 - 5) % 2 = 1
              "b = tf.nn.conv2d(x, tf.zeros([5, 5, 6, 8]), [1, 2, 2, 1], 'SAME')\n"   # padded: no remainder
              "y = tf.placeholder(tf.float32, [None, 29, 29, 6])\n"
              "c = tf.nn.max_pool(y, [1, 1, 1, 1], [1, 3, 3, 1], 'SAME')\n")  # k < s: SAME adds nothing, row 28 unused
    found = [(d.line, d.code) for d in lint_source(source, "t.py", Settings(select=("SL203",))).diagnostics]
    assert found == [(3, "SL203"), (6, "SL203")]


def test_input_comment_binds_an_uncalled_function():
    from shapelint.api import Settings, lint_source

    source = ("import tensorflow as tf\n"
              "\n"
              "\n"
              "# shapelint: input=(None, 32, 32, 1)\n"
              "def LeNet(x):\n"
              "    h = tf.nn.conv2d(x, tf.zeros([5, 5, 1, 6]), strides=[1, 1, 1, 1], padding='VALID')\n"
              "    h = tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding='VALID')\n"
              "    return tf.matmul(tf.layers.flatten(h), tf.zeros([1000, 10]))\n")
    result = lint_source(source, "t.py", Settings(), want_models=True)
    (model,) = result.models
    assert (model.name, model.input, model.input_source) == ("LeNet", (None, 32, 32, 1), "comment")
    assert [(d.line, d.code) for d in result.diagnostics] == [(8, "SL102")]  # 14 * 14 * 6 = 1176 features


def test_lint_never_imports_tensorflow():
    code = ("import sys\nfrom shapelint.api import lint_file\n"
            f"for p in {[str(p) for p in ALL]!r}:\n    lint_file(p)\n"
            "assert 'tensorflow' not in sys.modules, 'linting imported tensorflow'\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1:])))
