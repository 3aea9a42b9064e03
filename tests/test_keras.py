"""The Keras frontend against its fixtures and against real Keras 3 (TensorFlow backend).

* Every ``fixtures/keras`` file reports exactly the codes its inline comments expect.
* One subprocess imports Keras once and runs every fixture (``runpy``, fresh namespace each),
  recording every ``keras.layers.Layer.__call__`` with the fixture line that runs it: the line of
  the call in the fixture, or, when Keras itself calls the layer (a ``Sequential`` stack being
  built), the fixture line where the layer was constructed.  Keras builds models symbolically
  while the script runs, so shape errors raise there.
* The test asserts that Keras raises iff a fixture expects an error-severity finding, and that
  every layer output shapelint infers with fully known dims equals a Keras output shape at that
  line.  SL306's rule-doc examples run through the same probe.
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
FIXTURES = ROOT / "fixtures" / "keras"
ALL = sorted(FIXTURES.glob("*.py"))
EXPECT = re.compile(r"#\s*(SL\d{3}(?:[\s,]+SL\d{3})*)\s*$")


# ----- the probe (runs in the subprocess) ---------------------------------------------------------


def probe(paths: list) -> dict:
    import linecache
    import runpy
    import traceback
    import warnings

    warnings.simplefilter("ignore")
    import keras

    keras_dir = os.path.dirname(keras.__file__) + os.sep
    state = {"file": None, "observed": []}
    layer_cls = keras.layers.Layer
    original_init, original_call = layer_cls.__init__, layer_cls.__call__

    def fixture_line(frame):
        while frame is not None:
            if frame.f_code.co_filename == state["file"]:
                return frame.f_lineno
            frame = frame.f_back
        return None

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        if state["file"] is not None and "_probe_line" not in self.__dict__:
            object.__setattr__(self, "_probe_line", fixture_line(sys._getframe(1)))

    def call(self, *args, **kwargs):
        caller = sys._getframe(1)
        output = original_call(self, *args, **kwargs)
        if state["file"] is None:
            return output
        if caller.f_code.co_filename == state["file"]:
            line = caller.f_lineno
        elif caller.f_code.co_filename.startswith(keras_dir):
            line = self.__dict__.get("_probe_line")  # a stack entry Keras runs itself
        else:
            line = None
        shape = getattr(output, "shape", None)
        if line is not None and shape is not None and not isinstance(output, (list, tuple)):
            state["observed"].append([line, type(self).__name__, [None if d is None else int(d) for d in shape]])
        return output

    layer_cls.__init__, layer_cls.__call__ = init, call
    results = {}
    for path in paths:
        path = os.path.abspath(path)
        state.update(file=path, observed=[])
        error = None
        try:
            runpy.run_path(path, run_name="__main__")
        except Exception as exc:  # noqa: BLE001 - the point is to see what Keras raises
            lines = [entry.lineno for entry in traceback.extract_tb(exc.__traceback__) if entry.filename == path]
            message = str(exc).strip().splitlines()
            error = {"type": type(exc).__name__, "message": message[0] if message else "", "lines": lines}
        finally:
            state["file"] = None
        keras.backend.clear_session()
        linecache.clearcache()
        results[path] = {"error": error, "observed": state["observed"]}
    return results


# ----- helpers ------------------------------------------------------------------------------------


def expectations(path: Path) -> set:
    found = set()
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        match = EXPECT.search(text)
        if match:
            found |= {(number, code) for code in re.split(r"[\s,]+", match.group(1))}
    return found


def _doc_examples() -> list:
    from shapelint.catalogue import examples

    found = examples("SL306")
    return [("invalid", i, s) for i, s in enumerate(found["invalid"])] + \
        [("valid", i, s) for i, s in enumerate(found["valid"])]


@pytest.fixture(scope="session")
def doc_files(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("sl306_examples")
    files = {}
    for kind, index, source in _doc_examples():
        path = folder / f"{kind}_{index}.py"
        path.write_text(source)
        files[(kind, index)] = path
    return files


@pytest.fixture(scope="session")
def runtime(doc_files) -> dict:
    pytest.importorskip("keras")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PYTHONWARNINGS="ignore", TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow",
               CUDA_VISIBLE_DEVICES="")
    paths = [str(p) for p in ALL] + [str(p) for p in doc_files.values()]
    proc = subprocess.run([sys.executable, __file__, *paths], capture_output=True, text=True, env=env,
                          timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _analysis(path: Path):
    from shapelint.api import Settings, lint_file
    from shapelint.rules import RULES, model_findings

    settings = Settings()
    result = lint_file(str(path), settings, want_models=True)
    errors = [f for model in result.models for f in model_findings(model)
              if settings.enabled(f.code) and RULES[f.code].severity == "error"]
    return result, errors


def _layers(result) -> list:
    """(model, op, line, output shape) for every layer Keras reaches before the first fatal one
    (layers in branches whose condition is unknown are left out: they may not run)."""
    from shapelint.shapes.dims import json_shape

    layers = []
    for model in result.models:
        for node in model.nodes:
            if not node.speculative and any(p.fatal for p in node.problems):
                break
            # Layers only: a branch whose condition is unknown may not run, and keras.ops functions
            # (``ops.add``) are not layers the probe sees.
            if node.inputs and not node.speculative and not node.name.startswith("ops."):
                layers.append((model.name, node.name, result.positions.span(node.call_site).line,
                               json_shape(node.output)))
    return layers


def _known(shape) -> bool:
    return isinstance(shape, list) and len(shape) > 0 and all(isinstance(d, int) for d in shape[1:])


def _matches(static: list, real: list) -> bool:
    return len(static) == len(real) and all(s is None or s == r for s, r in zip(static, real))


# ----- shapelint alone ------------------------------------------------------------------------------


def test_fixture_set_is_substantial():
    assert len(ALL) >= 20
    assert all(p.name.startswith(("ok_", "bug_")) for p in ALL)
    codes = {code for p in ALL for _, code in expectations(p)}
    for code in ("SL101", "SL102", "SL103", "SL104", "SL105", "SL201", "SL202", "SL203", "SL303", "SL306"):
        assert code in codes, f"no keras fixture expects {code}"


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_fixture_expectations(path: Path):
    from shapelint.api import Settings, lint_file

    expected = expectations(path)
    if path.name.startswith("ok_"):
        assert not expected, "a clean fixture carries no expectation"
    else:
        assert len(expected) == 1, "a buggy fixture names exactly one finding"
    result = lint_file(str(path), Settings(extend_select=("SL203",)) if "SL203" in {c for _, c in expected}
                       else Settings())
    got = {(d.line, d.code) for d in result.diagnostics}
    details = "\n".join(f"{d.line}:{d.column}: {d.code} {d.message}" for d in result.diagnostics)
    assert got == expected, f"reported:\n{details}"


# ----- shapelint against Keras ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_keras_agrees(path: Path, runtime: dict):
    from shapelint.rules import RULES

    run = runtime[str(path)]
    errors = {code for _, code in expectations(path) if RULES[code].severity == "error"}
    error = run["error"]
    if errors:
        assert error is not None, f"expected Keras to raise ({sorted(errors)}), but the model built cleanly"
    else:
        assert error is None, f"Keras raised on a fixture without error expectations: {error}"

    result, findings = _analysis(path)
    observed: dict = {}
    for line, _, shape in run["observed"]:
        observed.setdefault(line, []).append(shape)
    checked = 0
    for model, op, line, shape in _layers(result):
        if not _known(shape):
            continue
        real = observed.get(line, [])
        assert any(_matches(shape, r) for r in real), (
            f"{model}: {op} at line {line} -> {shape}; Keras produced {real or 'nothing'} there")
        checked += 1
    if path.name.startswith("ok_"):
        assert checked, "a clean fixture should have at least one layer with a fully known shape"


def test_sl306_doc_examples_run_in_keras(runtime: dict, doc_files: dict):
    from shapelint.api import Settings, lint_file

    assert doc_files
    for (kind, index), path in doc_files.items():
        run = runtime[str(path)]
        assert run["error"] is None, f"SL306 {kind} example {index} fails in Keras: {run['error']}"
        codes = [d.code for d in lint_file(str(path), Settings()).diagnostics]
        assert codes == (["SL306"] if kind == "invalid" else []), (kind, index, codes)


def test_quiz_shapes_in_json():
    """The lesson's quiz in Keras: 'same' -> ceil(32 / 2), 'valid' -> ceil((32 - 7) / 2)."""
    from click.testing import CliRunner

    from shapelint.cli import cli

    outcome = CliRunner().invoke(cli, ["shapes", str(FIXTURES / "ok_quiz_padding.py"), "--format", "json"])
    assert outcome.exit_code == 0, outcome.output
    models = json.loads(outcome.output)
    convs = [layer["output_shape"] for m in models for layer in m["layers"] if layer["op"] == "Conv2D"]
    assert convs == [[None, 16, 16, 20], [None, 13, 13, 20]]
    assert all(m["framework"] == "keras" for m in models)


def test_check_does_not_import_keras(tmp_path):
    code = ("import sys\nfrom shapelint.api import lint_file\n"
            f"lint_file({str(FIXTURES / 'ok_quiz_padding.py')!r})\n"
            "assert not {'keras', 'tensorflow', 'tf_keras'} & set(sys.modules), sorted(sys.modules)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


# ----- import styles and names --------------------------------------------------------------------


@pytest.mark.parametrize("header, layer", [
    ("import keras", "keras.layers.Conv2D"),
    ("from tensorflow import keras", "keras.layers.Conv2D"),
    ("import tensorflow as tf", "tf.keras.layers.Conv2D"),
    ("import tf_keras", "tf_keras.layers.Conv2D"),
    ("from keras import layers", "layers.Conv2D"),
    ("from tensorflow.keras import layers", "layers.Conv2D"),
    ("from tensorflow.keras.layers import Conv2D", "Conv2D"),
    ("from keras.layers import Convolution2D as Conv2D", "Conv2D"),
])
def test_import_styles(header, layer):
    from shapelint.api import lint_source

    source = (f"{header}\nimport keras as K\n"
              f"x = K.Input(shape=(4, 4, 3))\ny = {layer}(8, 5)(x)\n")
    codes = [d.code for d in lint_source(source, "m.py").diagnostics]
    assert codes == ["SL201"], codes


@pytest.mark.parametrize("source", [
    # a local object called layers / nn is not Keras
    "import keras\nclass L:\n    def Conv2D(self, *a):\n        return self\nlayers = L()\n"
    "x = keras.Input(shape=(4, 4, 3))\ny = layers.Conv2D(8, 5)(x)\n",
    # MXNet Gluon's nn.Conv2D is not Keras
    "import keras\nfrom mxnet.gluon import nn\nx = keras.Input(shape=(4, 4, 3))\ny = nn.Conv2D(8, 5)(x)\n",
    # a layout chosen at run time is unknown
    "import os\nimport keras\nfmt = os.environ['LAYOUT']\nx = keras.Input(shape=(4, 4, 3))\n"
    "y = keras.layers.Conv2D(8, 5, data_format=fmt)(x)\n",
])
def test_not_keras_or_unknown_is_silent(source):
    from shapelint.api import lint_source

    assert [d.code for d in lint_source(source, "m.py").diagnostics] == []


@pytest.mark.parametrize("data_format", ["", ", data_format=keras.backend.image_data_format()",
                                         ", data_format=keras.config.image_data_format()"])
def test_image_data_format_is_the_layout_layers_default_to(data_format):
    """``image_data_format()`` answers the layout a layer without ``data_format=`` is analysed
    with (Keras's default, channels_last), so spelling it out changes nothing: (None, 4, 16, 16)
    is 4 rows high for both convolutions, and a 5x5 kernel does not fit."""
    from shapelint.api import lint_source

    source = ("import keras\nx = keras.Input(shape=(4, 16, 16))\n"
              f"y = keras.layers.Conv2D(8, 5{data_format})(x)\n")
    assert [(d.line, d.code) for d in lint_source(source, "m.py").diagnostics] == [(3, "SL201")]
    import keras
    with pytest.raises(ValueError):
        exec(compile(source, "m.py", "exec"), {})
    assert keras.config.image_data_format() == "channels_last"



@pytest.mark.parametrize("source, expected", [
    # star imports of keras.layers / keras.models bind the layer names
    ("import keras\nfrom keras.models import *\nfrom keras.layers import *\nmodel = Sequential()\n"
     "model.add(Conv2D(8, 3, input_shape=(4, 4, 3)))\nmodel.add(Conv2D(8, 5))\n", [(6, "SL201")]),
    # build(input_shape=...) on a subclassed model
    ("import keras\nclass Net(keras.Model):\n    def __init__(self):\n        super().__init__()\n"
     "        self.c = keras.layers.Conv2D(4, 7)\n    def call(self, x):\n        return self.c(x)\n"
     "net = Net()\nnet.build(input_shape=(None, 5, 5, 1))\n", [(5, "SL201")]),
    # a Sequential without an input gets one from a comment
    ("import keras\n# shapelint: input=(1, 6, 6, 3)\nmodel = keras.Sequential([keras.layers.MaxPooling2D(2),\n"
     "    keras.layers.MaxPooling2D(2), keras.layers.MaxPooling2D(2)])\n", [(4, "SL201")]),
    # ... and without one nothing is known: no finding
    ("import keras\nmodel = keras.Sequential([keras.layers.MaxPooling2D(2),\n"
     "    keras.layers.MaxPooling2D(2), keras.layers.MaxPooling2D(2)])\n", []),
    # Keras-1 keywords make a layer unknown; the positional kernel is still reported
    ("import keras\nfrom keras.layers import Convolution2D\nm = keras.Sequential()\n"
     "m.add(Convolution2D(32, 3, 3, border_mode='same', input_shape=(2, 2, 3)))\nm.add(Convolution2D(8, (5, 5)))\n",
     [(4, "SL306")]),
    # pooling padding is case-sensitive in Keras 3 and not in Keras 2: 'VALID' pools are unknown
    ("import keras\nx = keras.Input((1, 1, 3))\ny = keras.layers.MaxPooling2D(2, padding='VALID')(x)\n"
     "z = keras.layers.Conv2D(4, 3, padding='VALID')(keras.Input((1, 1, 3)))\n", [(4, "SL201")]),
    # Conv2D(64, (3, 3), (2, 2)) is the Keras 2 spelling of strides
    ("import keras\nx = keras.Input((8, 8, 3))\ny = keras.layers.Conv2D(64, (3, 3), (2, 2))(x)\n", []),
    # a layer called in an unknown branch is not pinned by it
    ("import keras, random\na = keras.Input((4,))\nb = keras.Input((6,))\nd = keras.layers.Dense(2)\n"
     "if random.random() > 0.5:\n    y = d(a)\nz = d(b)\n", []),
])
def test_model_forms(source, expected):
    from shapelint.api import lint_source

    got = [(d.line, d.code) for d in lint_source(source, "m.py").diagnostics]
    assert got == expected


def test_configured_input_comes_before_the_file():
    from shapelint.api import Settings, lint_source

    source = ("import keras\nfrom keras import layers\n"
              "model = keras.Sequential([keras.Input((64, 64, 3)), layers.Conv2D(4, 5)])\n"
              "class Net(keras.Model):\n    def __init__(self):\n        super().__init__()\n"
              "        self.pool = layers.MaxPooling2D(8)\n    def call(self, x):\n        return self.pool(x)\n"
              "y = Net()(keras.Input((64, 64, 3)))\n")
    assert [d.code for d in lint_source(source, "m.py").diagnostics] == []
    settings = Settings(inputs={"model": (1, 4, 4, 3), "Net": (1, 4, 4, 3)})
    got = [(d.line, d.code) for d in lint_source(source, "m.py", settings).diagnostics]
    assert got == [(3, "SL201"), (7, "SL201")]


@pytest.mark.parametrize("call, reported", [
    ("Conv2D(32, 3, 3)", True), ("SeparableConv2D(8, 5, 5)", True), ("Convolution2D(24, 5, 2)", True),
    ("Conv2D(24, 5, 2, border_mode='same')", True),
    ("Conv2D(64, 3, 2)", False), ("Conv2D(64, 1, 1)", False), ("Conv2D(64, (3, 3), (2, 2))", False),
    ("Conv2D(64, 3)", False), ("Conv2D(64, 3, strides=3)", False),
])
def test_keras1_positional_kernel(call, reported):
    from shapelint.api import lint_source

    source = f"import keras\nfrom keras.layers import *\nx = keras.Input((64, 64, 3))\ny = {call}(x)\n"
    codes = [d.code for d in lint_source(source, "m.py").diagnostics]
    assert codes == (["SL306"] if reported else [])

if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1:])))


def test_configured_input_reaches_an_input_whose_shape_is_computed_elsewhere():
    """Keras applications compute their input shape in another module; --input-shape (``*`` or the
    builder's name) gives it, and a 5x5 kernel on the 3 px map that results is reported.  An
    Input that declares another shape keeps its own."""
    from shapelint.api import Settings, lint_source

    source = ("import keras\nfrom keras import layers\nfrom elsewhere import input_shape_for\n\n\n"
              "def Net(input_shape=None):\n"
              "    inputs = layers.Input(shape=input_shape_for(input_shape))\n"
              "    x = layers.Conv2D(8, 3, strides=4)(inputs)\n"
              "    x = layers.Conv2D(8, 5)(x)\n"
              "    return keras.Model(inputs, x)\n\n\n"
              "def Fixed():\n"
              "    inputs = layers.Input(shape=(64, 64, 3))\n"
              "    return keras.Model(inputs, layers.Conv2D(8, 5)(inputs))\n")
    assert lint_source(source, "m.py").diagnostics == []
    for key in ("*", "Net"):
        found = lint_source(source, "m.py", Settings(inputs={key: (1, 12, 12, 3)}), want_models=True)
        assert [(d.line, d.code) for d in found.diagnostics] == [(9, "SL201")]
        net = next(m for m in found.models if m.name == "Net")
        assert net.input == (1, 12, 12, 3) and net.input_source == "configuration"
    fixed = lint_source(source, "m.py", Settings(inputs={"*": (1, 12, 12, 3)}), want_models=True)
    assert next(m for m in fixed.models if m.name == "Fixed").nodes[0].inputs[0] == (None, 64, 64, 3)


def test_add_weight_is_a_tensor_of_its_shape():
    from shapelint.api import lint_source

    source = ("import keras\nfrom keras import layers\n\n\nclass Scale(layers.Layer):\n"
              "    def build(self, input_shape):\n"
              "        self.gamma = self.add_weight(shape=(16,), initializer='ones')\n\n"
              "    def call(self, x):\n        return x * self.gamma\n\n\n"
              "inputs = keras.Input((8, 8, 8))\ny = Scale()(inputs)\n")
    found = [(d.line, d.code) for d in lint_source(source, "m.py").diagnostics]
    assert found == [(10, "SL103")]
    with pytest.raises(ValueError):
        exec(compile(source, "m.py", "exec"), {})


def test_a_feed_too_small_for_a_none_input_model_is_reported_at_the_call():
    """``predict`` on a model whose Input declares None sizes: a size that fits stays silent, one
    that collapses a layer is reported where Keras raises (the call), naming the layer."""
    from shapelint.api import lint_source

    source = ("import numpy as np\nimport keras\nfrom keras import layers\n\n"
              "inputs = keras.Input((None, None, 3))\n"
              "x = layers.Conv2D(8, 5)(inputs)\n"
              "x = layers.MaxPooling2D(4)(x)\n"
              "model = keras.Model(inputs, layers.GlobalAveragePooling2D()(x))\n"
              "model.predict(np.zeros((1, 32, 32, 3)), verbose=0)\n")
    assert lint_source(source, "m.py").diagnostics == []
    bad = source + "model.compile(loss='mse')\nmodel.fit(np.zeros((1, 6, 40, 3)), np.zeros((1, 8)), verbose=0)\n"
    found = lint_source(bad, "m.py").diagnostics
    assert [(d.line, d.code) for d in found] == [(11, "SL201")]
    assert "MaxPooling2D at line 7" in found[0].message
