"""Symbolic input sizes: what the solver admits must run in torch, what it rejects must raise."""

import textwrap

import pytest
import torch

from shapelint.api import lint_source
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
