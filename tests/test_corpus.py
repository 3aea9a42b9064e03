"""CI-sized corpus (``bench/corpus.py``): real model code nobody on the team wrote.

* Keras 3's own ``keras/src/applications`` (the copy installed as a test dependency; shapelint
  only reads its text): no finding, no crash, with and without an input size, and with
  ``--input-shape`` nearly every convolution's output shape known (the issue's target: 80%).
  For a dozen applications the inferred convolution shapes must equal what Keras itself builds.
* torchvision 0.29.1's ``torchvision/models`` (its wheel fetched with ``pip download --no-deps``
  into a cache, then unpacked, never imported): no finding, no crash, its models found.

Measured when written: Keras applications 19 files, 0 findings, 4551 of 4557 conv applications
fully known with a 224x224x3 input (99.9%); every sampled application equal to Keras at 224 and
199 px.  torchvision: 61 files, 0 findings, 0 crashes, 66 models.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("SHAPELINT_CORPUS_CACHE", Path.home() / ".cache" / "shapelint" / "corpus"))
INPUT = (1, 224, 224, 3)
KNOWN_FLOOR = 0.95  # measured 0.999 (4551 / 4557)
TORCHVISION_MODELS_FLOOR = 60  # measured 66
CONV = ("Conv", "SeparableConv", "DepthwiseConv")


def _bench():
    spec = importlib.util.spec_from_file_location("shapelint_bench_corpus", ROOT / "bench" / "corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _bench()


def keras_applications() -> Path:
    """The installed Keras's applications package, found without importing Keras."""
    spec = importlib.util.find_spec("keras")
    assert spec is not None and spec.origin, "keras is a test dependency"
    return Path(spec.origin).parent / "src" / "applications"


def _errors(summary) -> list:
    return [(c["path"], c["kind"], c["error"][:200]) for c in summary["crashes"]]


@pytest.mark.parametrize("given", [None, INPUT], ids=["no-input", "input-224"])
def test_keras_applications_are_clean(bench, given):
    src = keras_applications()
    files = sorted(src.glob("*.py"))
    assert len(files) >= 15
    records: list = []
    summary = bench.measure("keras", src, files, 120, records, given=given)
    findings = [r for r in records if r["code"] != "CRASH" and r["severity"] in ("error", "warning")]
    assert not findings, findings
    assert not summary["crashes"], _errors(summary)
    stats = summary["stats"]
    assert stats["models"] >= 50, stats
    if given is not None:
        assert stats["conv_nodes"] >= 4000, stats
        assert stats["conv_known"] / stats["conv_nodes"] >= KNOWN_FLOOR, stats


@pytest.mark.parametrize("module, function, size", [
    ("resnet", "ResNet50", 224), ("mobilenet_v3", "MobileNetV3Small", 199), ("efficientnet", "EfficientNetB0", 199),
    ("densenet", "DenseNet121", 224), ("nasnet", "NASNetMobile", 199), ("convnext", "ConvNeXtTiny", 224),
    ("inception_v3", "InceptionV3", 199), ("xception", "Xception", 224), ("mobilenet_v2", "MobileNetV2", 199),
    ("efficientnet_v2", "EfficientNetV2B0", 224), ("vgg16", "VGG16", 199), ("mobilenet", "MobileNet", 224),
])
def test_keras_application_shapes_equal_keras(module, function, size):
    """Every convolution shapelint infers for the application, as (layer, output shape) pairs,
    equals those of the model Keras builds for the same input."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from shapelint.api import Settings, lint_source

    path = keras_applications() / f"{module}.py"
    result = lint_source(path.read_bytes(), str(path), Settings(inputs={function: (1, size, size, 3)}),
                         want_models=True)
    assert not result.diagnostics, result.diagnostics
    model = next(m for m in result.models if m.name == function)
    ours = Counter((n.name, tuple(n.output[1:])) for n in model.nodes
                   if n.name.startswith(CONV) and n.output is not None)
    real = getattr(keras.applications, function)(weights=None, input_shape=(size, size, 3))
    theirs = Counter((layer.__class__.__name__, tuple(layer.output.shape[1:])) for layer in real.layers
                     if layer.__class__.__name__.startswith(CONV))
    assert sum(theirs.values()) >= 10
    assert ours == theirs, {"only shapelint": ours - theirs, "only keras": theirs - ours}


def test_torchvision_models_are_clean(bench):
    src = bench.fetch("torchvision", CACHE)
    files = bench.files_of("torchvision", src)
    assert len(files) >= 50
    records: list = []
    summary = bench.measure("torchvision", src, files, 120, records)
    findings = [r for r in records if r["code"] != "CRASH" and r["severity"] in ("error", "warning")]
    assert not findings, findings
    assert not summary["crashes"], _errors(summary)
    assert summary["stats"]["models"] >= TORCHVISION_MODELS_FLOOR, summary["stats"]


# torchvision's models run from the unpacked wheel without importing the package's ``__init__``
# (it loads the compiled ops) or its PIL-based utilities: only the model modules themselves.
TORCHVISION_CHILD = """
import json, sys, types, torch
src = sys.argv[1]
def stub(name, path=None):
    module = types.ModuleType(name)
    if path is not None:
        module.__path__ = [path]
    sys.modules[name] = module
    return module
for name in ("", ".models", ".ops", ".transforms"):
    stub("torchvision" + name, src + name.replace(".", "/"))
utils = stub("torchvision.utils")
utils._log_api_usage_once = lambda obj: None
utils._make_ntuple = lambda x, n: tuple(x) if hasattr(x, "__iter__") else (x,) * n
class ImageClassification:
    def __init__(self, *args, **kwargs):
        pass
stub("torchvision.transforms._presets").ImageClassification = ImageClassification
import importlib
out = {}
for spec in sys.argv[2:]:
    module, function = spec.split(":")
    model = getattr(importlib.import_module("torchvision.models." + module), function)().eval()
    seen = []
    def hook(layer, inputs, output):
        seen.append([type(layer).__name__, list(output.shape)])
    for layer in model.modules():
        if not list(layer.children()):
            layer.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.randn(1, 3, 224, 224))
    out[spec] = seen
print(json.dumps(out))
"""
TORCHVISION_TRACED = (("resnet", "resnet18"), ("resnet", "resnet50"), ("mobilenetv2", "mobilenet_v2"))


def test_torchvision_layer_shapes_equal_torch(bench):
    """ResNet and MobileNetV2, whose blocks come from other modules (a block class passed to
    ``_make_layer``, ``torchvision.ops.misc.Conv2dNormActivation``): every torch.nn layer has a known
    shape at 224 px, and the layers, in the order they run, equal what torch computes."""
    pytest.importorskip("torch")
    import json
    import subprocess

    from shapelint.api import Settings, lint_file
    from shapelint.frontends.torch import LAYERS

    src = bench.fetch("torchvision", CACHE) / "torchvision"
    proc = subprocess.run([sys.executable, "-c", TORCHVISION_CHILD, str(src)]
                          + [f"{m}:{f}" for m, f in TORCHVISION_TRACED],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    real = json.loads(proc.stdout.strip().splitlines()[-1])
    for module, function in TORCHVISION_TRACED:
        path = src / "models" / f"{module}.py"
        result = lint_file(str(path), Settings(inputs={function: (1, 3, 224, 224)}), want_models=True)
        assert not result.diagnostics, result.diagnostics
        model = next(m for m in result.models if m.name == function)
        ours = [[n.name, list(n.output) if n.output is not None else None] for n in model.nodes
                if n.name in LAYERS and n.inputs and not n.speculative]
        theirs = real[f"{module}:{function}"]
        assert len(theirs) >= 50
        assert ours == theirs, next((i, a, b) for i, (a, b) in enumerate(zip(ours + [None] * len(theirs), theirs))
                                    if a != b)
