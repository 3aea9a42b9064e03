"""Pruning (``shapelint/prune.py``) leaves out of the parse only what no model can depend on.

The guarantee: for every fixture, the findings and the models (layers, shapes, positions) are
the same whether the file is parsed whole or pruned.  The unit tests pin the decisions.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shapelint.api import lint_source
from shapelint.frontends import IMPORT_ROOTS
from shapelint.prune import grammar_covered, prune, worth_pruning

FIXTURES = sorted((Path(__file__).resolve().parent.parent / "fixtures").glob("**/*.py"))


def _shape(shape):
    return None if shape is None else tuple(str(d) for d in shape)


def observed(result) -> tuple:
    """Everything a user can see: findings, and per model what ``shapes`` prints, with positions."""
    from shapelint.shapes.solve import accepts_for

    span = result.positions.span if result.positions else None
    diagnostics = [(d.code, d.line, d.column, d.end_line, d.end_column, d.severity, d.message)
                   for d in result.diagnostics]
    models = []
    for model in result.models:
        nodes = [(node.name, span(node.call_site), span(node.def_site), tuple(_shape(s) for s in node.inputs),
                  _shape(node.output), node.speculative, node.hint,
                  tuple((p.kind, p.fatal, sorted((k, str(v)) for k, v in p.data.items())) for p in node.problems))
                 for node in model.nodes]
        accepts = accepts_for(model) if model.input_source == "symbolic" and model.input else None
        models.append((model.name, model.framework, _shape(model.input), model.input_source, span(model.site),
                       nodes, str(accepts)))
    return diagnostics, models


def both(source, path="t.py", **kwargs):
    whole = observed(lint_source(source, path, want_models=True, prune="never", **kwargs))
    pruned = observed(lint_source(source, path, want_models=True, prune="always", **kwargs))
    return whole, pruned


@pytest.mark.parametrize("path", FIXTURES, ids=[f"{p.parent.name}/{p.name}" for p in FIXTURES])
def test_fixture_same_with_and_without_pruning(path: Path):
    whole, pruned = both(path.read_bytes(), str(path))
    assert pruned == whole


def kept_text(source: str) -> str:
    result = prune(source.encode(), IMPORT_ROOTS, always=True)
    return source if result is None else result.source.decode()


MODEL = '''"""A module docstring."""
import torch
import torch.nn as nn

CHANNELS = {"stem": 16}
WEIGHTS_TABLE = {
    "resnet": "https://example.com/resnet.pth",
    "vgg": "https://example.com/vgg.pth",
}


def _make_divisible(v, divisor=8):
    return max(divisor, int(v + divisor / 2) // divisor * divisor)


def download(url):
    return url.split("/")[-1]


class Unrelated:
    size = 3

    def describe(self):
        return "unrelated"


# shapelint: input=(1, 3, 64, 64)
def unrelated_with_comment():
    return 1


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, _make_divisible(CHANNELS["stem"]), 3)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.conv(x)
        return self.fc(x.mean((2, 3)))
'''


def test_decisions_helper_kept_unrelated_dropped():
    text = kept_text(MODEL)
    for kept in ("def _make_divisible", 'CHANNELS = {"stem": 16}', "class Net(nn.Module)", "import torch.nn as nn"):
        assert kept in text
    for dropped in ("WEIGHTS_TABLE", "def download", "class Unrelated", "def unrelated_with_comment",
                    "A module docstring"):
        assert dropped not in text


def test_lines_and_columns_preserved():
    text = kept_text(MODEL)
    assert text != MODEL
    original, pruned = MODEL.splitlines(keepends=True), text.splitlines(keepends=True)
    assert len(original) == len(pruned)
    for before, after in zip(original, pruned):
        assert after == before or after.strip() in ("", "pass")
    # comments stay where they were, attached to the ``pass`` standing for the dropped def
    assert "# shapelint: input=(1, 3, 64, 64)\npass\n" in text


def test_comment_above_dropped_def_does_not_move_onto_the_model():
    whole, pruned = both(MODEL)
    assert pruned == whole
    (model,) = [m for m in whole[1] if m[0] == "Net"]
    assert model[3] == "symbolic"  # the input comment belongs to the dropped function, not to Net


def test_base_class_and_decorator_kept():
    source = '''import torch.nn as nn

def register(cls):
    return cls

class Base(nn.Module):
    pass

@register
class Block(Base):
    def forward(self, x):
        return x

class Plain:
    pass
'''
    text = kept_text(source)
    assert "def register" in text and "class Block(Base)" in text and "class Base" in text
    assert "class Plain" not in text


def test_factory_through_helper_kept():
    # ``make`` names no framework itself but returns a model: it is a factory the analysis runs.
    source = '''import torch.nn as nn

class Net(nn.Module):
    def forward(self, x):
        return x

def _build():
    return Net()

def make():
    return _build()

def unrelated():
    return 2
'''
    text = kept_text(source)
    assert "def make" in text and "def _build" in text and "def unrelated" not in text


def test_table_read_by_a_model_kept_unread_table_dropped():
    source = '''import torch.nn as nn

CFG = {
    "a": [64, 64, "M"],
}
URLS = {
    "a": "x",
}

def make_layers(cfg):
    return nn.Sequential(*[nn.Conv2d(3, v, 3) for v in cfg if v != "M"])

net = make_layers(CFG["a"])
'''
    text = kept_text(source)
    assert "CFG = {" in text and "URLS" not in text


def test_statement_touching_kept_state_kept():
    # Extending a list a model reads changes the model: that statement must stay, even though
    # it names no framework and binds nothing.
    source = '''import torch.nn as nn

SIZES = [16]
SIZES.append(32)
_extra = [s * 2 for s in SIZES]
OTHER = [1, 2]
OTHER.append(3)

def register(fn):
    SIZES.append(64)
    return fn

@register
def unrelated():
    return 1

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(3, s, 3) for s in SIZES])
'''
    text = kept_text(source)
    assert "SIZES.append(32)" in text  # mutates what Net reads
    assert "_extra" in text  # reads what Net reads: could mutate it (here it does not)
    assert "def register" in text and "def unrelated" in text  # the decorator runs at definition
    assert "OTHER" not in text


def test_global_assignment_in_function_kept():
    source = '''import torch.nn as nn

WIDTH = 8

def configure():
    global WIDTH
    WIDTH = 16

configure()

def unused():
    return 1

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, WIDTH, 3)
'''
    text = kept_text(source)
    assert "def configure" in text and "configure()" in text and "def unused" not in text


def test_scopes_local_names_do_not_keep_and_globals_in_comprehensions_do():
    source = '''import torch.nn as nn

n = 3
TABLE = {
    "x": 1,
}

def helper():
    out = [n for n in range(4)]
    return n

def unrelated():
    TABLE = 2
    return TABLE

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, helper(), 3)
'''
    text = kept_text(source)
    assert "def helper" in text and "n = 3" in text  # ``return n`` reads the global
    assert "TABLE = {" not in text and "def unrelated" not in text  # a local TABLE is not the global


def test_shared_line_kept_together():
    source = '''import torch.nn as nn
A = 1; conv = nn.Conv2d(3, 8, 3)
B = [
    1,
]; C = 2
'''
    text = kept_text(source)
    assert "A = 1; conv" in text
    assert "B = [" not in text and "C = 2" not in text  # dropped together, as one group


def test_main_block_and_try_import_kept():
    source = '''import torch.nn as nn
try:
    import yaml
except ImportError:
    yaml = None

if __name__ == "__main__":
    print("hello")

def unrelated():
    return 1
'''
    text = kept_text(source)
    assert "import yaml" in text and '__name__ == "__main__"' in text and "def unrelated" not in text


def test_framework_star_import_keeps_unknown_names():
    source = '''from keras.layers import *

def block(x):
    return Conv2D(8, 3)(x)

def unrelated():
    return 1
'''
    text = kept_text(source)
    assert "def block" in text and "def unrelated" not in text


def test_syntax_error_falls_back_to_the_whole_file():
    source = MODEL + "\ndef broken(:\n    pass\n"
    assert prune(source.encode(), IMPORT_ROOTS, always=True) is None
    whole, pruned = both(source)
    assert pruned == whole
    assert [d[0] for d in whole[0]] == ["SL000"]


def test_str_source_and_crlf_line_endings():
    source = MODEL.replace("\n", "\r\n")
    whole, pruned = both(source)
    assert pruned == whole
    text = prune(source.encode(), IMPORT_ROOTS, always=True).source
    assert text.count(b"\r\n") == source.count("\r\n")


def test_keras_called_names_read_from_the_whole_file():
    # The Keras frontend skips functions the file calls; a call in a dropped statement counts.
    source = '''from tensorflow import keras

def build():
    return keras.Sequential([keras.layers.Dense(4, input_shape=(8,)), keras.layers.Dense(2)])

def unrelated():
    return build.__name__

NOTES = """
build()
"""
'''
    whole, pruned = both(source)
    assert pruned == whole


def test_grammar_probe_passes_here():
    assert grammar_covered()


def test_gate_wants_big_tables():
    table = "default_cfgs = {\n" + "".join(f'    "m{i}": {{"url": "u{i}"}},\n' for i in range(40)) + "}\n"
    model = "import torch.nn as nn\n\nclass Net(nn.Module):\n    pass\n"
    assert worth_pruning((model + table).encode())
    assert not worth_pruning(model.encode())
    assert prune(model.encode(), IMPORT_ROOTS) is None


def test_function_changing_kept_state_kept():
    # torch runs public no-argument functions as factory probes: their effects are seen by later ones.
    source = '''import torch.nn as nn

CONFIG = {"width": 8}

def setup():
    CONFIG["width"] = 16

def unrelated():
    return {"width": 4}

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, CONFIG["width"], 3)
'''
    text = kept_text(source)
    assert "def setup" in text and "def unrelated" not in text


def test_tensorflow_files_keep_every_function():
    # tf.nn analyses every function the file never calls, on a tensor: ``x @ x`` is a model there.
    source = '''import tensorflow as tf

def proj(x):
    return x @ x

TABLE = {
    "a": 1,
}
'''
    from shapelint.frontends import FUNCTION_ROOTS

    result = prune(source.encode(), IMPORT_ROOTS, always=True, function_roots=FUNCTION_ROOTS)
    assert b"def proj" in result.source and b"TABLE" not in result.source
    whole, pruned = both(source)
    assert pruned == whole and [m[0] for m in whole[1]] == ["proj"]
