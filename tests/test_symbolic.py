"""Symbolic input sizes: what the solver admits must run in torch, what it rejects must raise."""

import textwrap

import pytest
import torch

from shapelint.api import lint_source
from shapelint.shapes.dims import Expr
from shapelint.shapes.solve import BOUND, accepts_for

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"

MODELS = {
    "lenet_flatten": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 6, 5)
                self.pool = nn.MaxPool2d(2, 2)
                self.conv2 = nn.Conv2d(6, 16, 5)
                self.fc1 = nn.Linear(16 * 5 * 5, 120)
                self.fc2 = nn.Linear(120, 10)

            def forward(self, x):
                x = self.pool(F.relu(self.conv1(x)))
                x = self.pool(F.relu(self.conv2(x)))
                x = torch.flatten(x, 1)
                return self.fc2(F.relu(self.fc1(x)))
    """, 3),
    "lenet_view_minus_one": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 6, 5)
                self.pool = nn.MaxPool2d(2, 2)
                self.conv2 = nn.Conv2d(6, 16, 5)
                self.fc1 = nn.Linear(16 * 5 * 5, 120)

            def forward(self, x):
                x = self.pool(F.relu(self.conv1(x)))
                x = self.pool(F.relu(self.conv2(x)))
                x = x.view(-1, 16 * 5 * 5)
                return self.fc1(x)
    """, 3),
    "view_batch_size": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),
                                              nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())
                self.fc = nn.Linear(16 * 7 * 7, 10)

            def forward(self, x):
                x = self.features(x)
                x = x.view(x.size(0), -1)
                return self.fc(x)
    """, 1),
    "conv_only": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Conv2d(3, 8, 7), nn.MaxPool2d(3, 3), nn.Conv2d(8, 8, 5, dilation=2))

            def forward(self, x):
                return self.body(x)
    """, 3),
    "adaptive_pool_head": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 16, 11, stride=4, padding=2)
                self.pool = nn.MaxPool2d(3, 2)
                self.avg = nn.AdaptiveAvgPool2d((6, 6))
                self.fc = nn.Linear(16 * 6 * 6, 10)

            def forward(self, x):
                x = self.avg(self.pool(self.conv(x)))
                return self.fc(torch.flatten(x, 1))
    """, 3),
    "unet_skip": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.down = nn.Conv2d(3, 8, 3, padding=1)
                self.pool = nn.MaxPool2d(2)
                self.mid = nn.Conv2d(8, 8, 3, padding=1)
                self.up = nn.ConvTranspose2d(8, 8, 2, stride=2)
                self.out = nn.Conv2d(16, 2, 1)

            def forward(self, x):
                skip = self.down(x)
                x = self.up(self.mid(self.pool(skip)))
                return self.out(torch.cat([x, skip], dim=1))
    """, 3),
    "residual_stride": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Conv2d(4, 4, 3, stride=2, padding=1)
                self.b = nn.Conv2d(4, 4, 1, stride=2)

            def forward(self, x):
                return self.a(x) + self.b(x)
    """, 4),
    "ceil_mode_pool": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3)
                self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)
                self.fc = nn.Linear(4 * 4 * 4, 2)

            def forward(self, x):
                x = self.pool(self.conv(x))
                return self.fc(x.flatten(1))
    """, 3),
    "conv1d_signal": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(2, 4, 9, stride=3)
                self.fc = nn.Linear(4 * 10, 1)

            def forward(self, x):
                return self.fc(torch.flatten(self.conv(x), 1))
    """, 2),
    "sequential_mlp_head": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.net = nn.Sequential(
                    nn.Conv2d(1, 4, 5), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Flatten(), nn.Linear(4 * 12 * 12, 10))

            def forward(self, x):
                return self.net(x)
    """, 1),
    "upsample_merge": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.down = nn.Conv2d(2, 2, 3, stride=3)
                self.up = nn.Upsample(scale_factor=3)

            def forward(self, x):
                return x * self.up(self.down(x))
    """, 2),
    "avgpool_linear": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.pool = nn.AvgPool2d(4)
                self.fc = nn.Linear(3 * 8 * 8, 5)

            def forward(self, x):
                return self.fc(self.pool(x).reshape(x.shape[0], -1))
    """, 3),
}


UNKNOWN_ANSWER = {"ceil_mode_pool"}


def _model(source):
    result = lint_source(HEADER + textwrap.dedent(source), "m.py", want_models=True)
    (model,) = [m for m in result.models if m.name == "Net"]
    return result, model


_BUILT = {}


def _runs(source, channels, size, rank):
    if source not in _BUILT:
        namespace = {}
        exec(compile(HEADER + textwrap.dedent(source), "m.py", "exec"), namespace)
        _BUILT[source] = namespace["Net"]()
    shape = (1, channels) + (size,) * rank
    try:
        with torch.no_grad():
            _BUILT[source](torch.zeros(shape))
    except RuntimeError:
        return False
    return True


def _expand(entry):
    if isinstance(entry, list):
        return set(entry)
    return None


@pytest.mark.parametrize("name", sorted(MODELS))
def test_accepts_agrees_with_torch(name):
    source, channels = MODELS[name]
    result, model = _model(source)
    assert result.diagnostics == []
    accepts = accepts_for(model)
    spatial = [a for a, d in zip(accepts, model.input) if str(d) not in ("N",) and not isinstance(d, int)]
    assert spatial, model.input
    first = spatial[0]
    assert all(a == first for a in spatial)  # square models: every spatial dim agrees
    rank = len(spatial)
    limit = 80 if rank < 3 else 40
    if name in UNKNOWN_ANSWER:
        # A ceil_mode pool's size has no closed form here: the solver must not claim anything.
        assert first is None
        return
    if isinstance(first, list):
        admitted = set(first)
    else:
        assert isinstance(first, dict), first
        low, high = first["min"], first.get("max", BOUND)
        admitted = None if first.get("gaps") else set(range(low, high + 1))
        if admitted is None:  # gaps: only the bounds are claimed
            assert _runs(source, channels, low, rank)
            assert not _runs(source, channels, low - 1, rank)
            return
    sizes = range(1, limit)
    for size in sizes:
        assert _runs(source, channels, size, rank) == (size in admitted), (name, size)


def test_lenet_admits_32_rejects_28_and_401_is_unsatisfiable():
    source, _ = MODELS["lenet_flatten"]
    _, model = _model(source)
    accepts = accepts_for(model)
    assert 32 in accepts[2] and 32 in accepts[3]
    assert 28 not in accepts[2] and 28 not in accepts[3]
    bad = source.replace("nn.Linear(16 * 5 * 5, 120)", "nn.Linear(16 * 5 * 5 + 1, 120)")
    result, _ = _model(bad)
    assert [(d.code, d.line) for d in result.diagnostics] == [("SL102", 12)]
    assert "no input size up to 4096" in result.diagnostics[0].message


def test_tf_nn_lenet_without_input_gets_the_same_treatment():
    source = textwrap.dedent("""\
        import tensorflow as tf


        def LeNet(x):
            w1 = tf.Variable(tf.truncated_normal(shape=(5, 5, 1, 6)))
            x = tf.nn.conv2d(x, w1, strides=[1, 1, 1, 1], padding='VALID')
            x = tf.nn.max_pool(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding='VALID')
            w2 = tf.Variable(tf.truncated_normal(shape=(5, 5, 6, 16)))
            x = tf.nn.conv2d(x, w2, strides=[1, 1, 1, 1], padding='VALID')
            x = tf.nn.max_pool(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding='VALID')
            return tf.reshape(x, [-1, 400])
    """)
    result = lint_source(source, "tf_lenet.py", want_models=True)
    (model,) = result.models
    solution = model.solution or __import__("shapelint.shapes.solve", fromlist=["solve"]).solve(model)
    assert 32 in solution.accepted["H"] and 28 not in solution.accepted["H"]
    assert result.diagnostics == []


def test_a_concrete_input_mismatch_says_which_sizes_would_fit():
    source = HEADER + textwrap.dedent(MODELS["lenet_flatten"][0]) + "\nnet = Net()\nout = net(torch.randn(1, 3, 28, 28))\n"
    result = lint_source(source, "m.py")
    (diag,) = result.diagnostics
    assert diag.code == "SL102"
    assert "expects 400 input features but receives 256; it holds for inputs of 32, 33, 34, 35 px; " \
           "this input is 28x28" in diag.message
    namespace = {}
    exec(compile(HEADER + textwrap.dedent(MODELS["lenet_flatten"][0]), "m.py", "exec"), namespace)
    for size, runs in ((28, False), (32, True), (35, True), (36, False)):
        try:
            namespace["Net"]()(torch.zeros(1, 3, size, size))
            ran = True
        except RuntimeError:
            ran = False
        assert ran == runs, size


# ----- Keras: sizes an Input declares None -------------------------------------------------------

KERAS_HEADER = "import keras\nfrom keras import layers\n\n"

# name -> (source building ``model`` from an Input with None sizes, channels, rank of the sizes)
KERAS_MODELS = {
    "unet_same_padding": ("""
        inputs = keras.Input((None, None, 3))
        c1 = layers.Conv2D(4, 3, padding="same")(inputs)
        c2 = layers.Conv2D(4, 3, padding="same")(layers.MaxPooling2D()(c1))
        merged = layers.Concatenate()([layers.UpSampling2D()(c2), c1])
        model = keras.Model(inputs, layers.Conv2D(1, 1)(merged))
    """, 3, 2),
    "reshape_fixed_size": ("""
        model = keras.Sequential([
            keras.Input((None, None, 1)),
            layers.Conv2D(4, 3, strides=2, padding="same"),
            layers.Conv2D(2, 3, strides=2),
            layers.Reshape((6 * 6 * 2,)),
            layers.Dense(3),
        ])
    """, 1, 2),
    "reshape_minus_one": ("""
        model = keras.Sequential([
            keras.Input((None, None, 1)),
            layers.Conv2D(3, 2, strides=2),
            layers.Reshape((-1, 5)),
        ])
    """, 1, 2),
    "valid_branch_add": ("""
        inputs = keras.Input((None, None, 2))
        branch = layers.Conv2D(2, 3)(inputs)
        model = keras.Model(inputs, layers.Add()([branch, inputs]))
    """, 2, 2),
    "strided_branches_add": ("""
        inputs = keras.Input((None, None, 2))
        a = layers.Conv2D(2, 3, strides=2, padding="same")(inputs)
        b = layers.MaxPooling2D(2)(inputs)
        model = keras.Model(inputs, layers.Add()([a, b]))
    """, 2, 2),
    "global_pool_head": ("""
        inputs = keras.Input((None, None, 3))
        x = layers.Conv2D(4, 5, strides=2)(inputs)
        x = layers.MaxPooling2D(3)(x)
        x = layers.Cropping2D(1)(x)
        outputs = layers.Dense(2)(layers.GlobalAveragePooling2D()(x))
        model = keras.Model(inputs, outputs)
    """, 3, 2),
    "text_conv1d": ("""
        tokens = keras.Input((None,), dtype="int32")
        x = layers.Embedding(50, 4)(tokens)
        x = layers.Conv1D(4, 7, dilation_rate=2)(x)
        x = layers.GlobalMaxPooling1D()(x)
        model = keras.Model(tokens, layers.Dense(1)(x))
    """, None, 1),
    "no_size_fits": ("""
        model = keras.Sequential([
            keras.Input((None, None, 1)),
            layers.Conv2D(8, 3, strides=2, padding="same"),
            layers.Reshape((10, 10)),
        ])
    """, 1, 2),
}

KERAS_LIMIT = 40


def _keras_probe(cases: dict, limit: int) -> dict:
    """Runs in a subprocess: which sizes 1..limit each model runs on (square inputs, graph mode
    as ``fit``/``predict`` run it)."""
    import numpy as np
    import keras

    ran = {}
    for name, (source, channels, rank) in cases.items():
        namespace = {}
        exec(compile(source, name, "exec"), namespace)
        model = namespace["model"]
        sizes = []
        for size in range(1, limit + 1):
            shape = (1,) + (size,) * rank + ((channels,) if channels else ())
            data = np.zeros(shape, dtype="float32" if channels else "int32")
            try:
                model.predict_on_batch(data)
            except Exception:  # noqa: BLE001 - any failure means "does not run"
                continue
            sizes.append(size)
        ran[name] = sizes
        keras.backend.clear_session()
    return ran


@pytest.fixture(scope="module")
def keras_runs() -> dict:
    import inspect
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("keras")
    root = Path(__file__).resolve().parent.parent
    cases = {name: (KERAS_HEADER + textwrap.dedent(source), channels, rank)
             for name, (source, channels, rank) in KERAS_MODELS.items()}
    script = (inspect.getsource(_keras_probe) + "\nimport json, sys\n"
              f"print(json.dumps(_keras_probe(json.loads(sys.stdin.read()), {KERAS_LIMIT})))\n")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow", CUDA_VISIBLE_DEVICES="",
               PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, "-c", script], input=json.dumps(cases), capture_output=True, text=True,
                          env=env, timeout=900, cwd=root)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _keras_accepts(name):
    """The diagnostics, and the exact sizes accepted per None size of the model's input."""
    source = KERAS_HEADER + textwrap.dedent(KERAS_MODELS[name][0])
    result = lint_source(source, "m.py", want_models=True)
    (model,) = [m for m in result.models if m.nodes]
    accepts_for(model)
    declared = [d.name for d in model.input if isinstance(d, Expr) and d.declared_none]
    return result, [model.solution.accepted[s] for s in declared]


@pytest.mark.parametrize("name", sorted(KERAS_MODELS))
def test_accepts_agrees_with_keras(name, keras_runs):
    result, sizes = _keras_accepts(name)
    assert sizes, "the model's None sizes are symbols"
    assert all(s == sizes[0] for s in sizes) and sizes[0] is not None
    admitted = {s for s in sizes[0] if s <= KERAS_LIMIT}
    ran = set(keras_runs[name])
    assert admitted == ran, (name, sorted(admitted), sorted(ran))
    if name == "no_size_fits":
        assert sizes[0] == []
        assert [d.code for d in result.diagnostics] == ["SL102"]
    else:
        assert ran, "the model runs on some size"
        assert result.diagnostics == []


def test_declared_none_is_not_an_unknown_size():
    """A None the code declares is a size Keras builds without; a size the analysis cannot
    resolve is not: only the first makes Flatten -> Dense an error."""
    declared = KERAS_HEADER + textwrap.dedent("""
        inputs = keras.Input((None, None, 3))
        x = layers.Flatten()(layers.Conv2D(4, 3)(inputs))
        model = keras.Model(inputs, layers.Dense(2)(x))
    """)
    assert [d.code for d in lint_source(declared, "m.py").diagnostics] == ["SL102"]
    unresolved = declared.replace("(None, None, 3)", "(size(), size(), 3)")
    assert lint_source(unresolved, "m.py").diagnostics == []
    invented = KERAS_HEADER + textwrap.dedent("""
        model = keras.Sequential([layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(2)])
    """)
    assert lint_source(invented, "m.py").diagnostics == []


def test_tf_placeholder_with_none_sizes_is_solved():
    source = textwrap.dedent("""\
        import tensorflow as tf

        x = tf.placeholder(tf.float32, [None, None, None, 1])
        w1 = tf.Variable(tf.truncated_normal([5, 5, 1, 16]))
        h = tf.nn.conv2d(x, w1, strides=[1, 1, 1, 1], padding='VALID')
        h = tf.nn.max_pool(h, ksize=[1, 4, 4, 1], strides=[1, 4, 4, 1], padding='VALID')
        flat = tf.reshape(h, [-1, 7 * 7 * 16])
        logits = tf.matmul(flat, tf.Variable(tf.zeros([7 * 7 * 16, 10])))
    """)
    result = lint_source(source, "tf_none.py", want_models=True)
    (model,) = result.models
    assert [str(d) for d in model.input[1:3]] == ["h", "w"]
    accepts = accepts_for(model)
    assert result.diagnostics == []
    assert model.solution.accepted["h"][0] == 32 and 31 not in model.solution.accepted["h"]
    assert accepts[1]["min"] == 32
    # Flattened per example, 16 maps never make 7 * 7 * 10 elements.
    unsatisfiable = source.replace("tf.reshape(h, [-1, 7 * 7 * 16])", "tf.layers.flatten(h)").replace(
        "tf.zeros([7 * 7 * 16, 10])", "tf.zeros([7 * 7 * 10, 10])")
    (diag,) = lint_source(unsatisfiable, "tf_none.py").diagnostics
    assert diag.code == "SL102" and "no input size up to 4096" in diag.message


def test_a_merge_with_an_unknown_operand_is_not_solved_for():
    """After a channel mismatch the residual add's other operand is unknown: its check cannot fire
    at any size (unknown is not wrong), so no scan of every input size runs for it."""
    import libcst

    from shapelint import frontends
    from shapelint.rules import symbolic
    from shapelint.shapes import solve

    source = HEADER + textwrap.dedent("""
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(16, 16, 3, padding=1)
                self.bn = nn.BatchNorm2d(17)

            def forward(self, x):
                return self.bn(self.conv(x)) + x
    """)
    [model] = frontends.analyse(libcst.parse_module(source), {})
    [merge] = [node for node in model.nodes if getattr(node.op, "merges", False)]
    assert merge.inputs[0] is None and merge.inputs[1] is not None
    assert solve.merge_always_fits(merge.inputs)
    assert not symbolic.needs_solving(model)
    assert [d.code for d in lint_source(source).diagnostics] == ["SL101"]
