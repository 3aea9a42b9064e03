"""Projects of several modules: a model built from classes and helpers imported from another file.

Each project under ``fixtures/projects`` is buggy as shipped; its fixed version is made by one
textual edit.  Both are linted the way users run shapelint (the whole tree, or only the changed
file as pre-commit does) and run under real torch, which must raise for the buggy version and
run clean for the fixed one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shapelint.api import Settings, collect_files
from shapelint.runner import lint_files

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = ROOT / "fixtures" / "projects"

# name: (entry script, the faulty line as (file, line, code), where a run of the entry script
# alone reports it, torch's error, (file, text, fixed text))
CASES = {
    "blocks": ("train.py", ("models/blocks.py", 15, "SL101"), ("train.py", 15),
               "expected input[4, 32, 16, 16] to have 64 channels, but got 32 channels instead",
               ("models/net.py", "conv_bn(3, 32, 2)", "conv_bn(3, 64, 2)")),
    "lenet": ("train.py", ("nets/lenet.py", 12, "SL102"), ("train.py", 18),
              "mat1 and mat2 shapes cannot be multiplied (32x256 and 400x120)",
              ("nets/lenet.py", "nn.Conv2d(1, 6, kernel_size=5)", "nn.Conv2d(1, 6, kernel_size=5, padding=2)")),
}


def _copy(name: str, tmp_path: Path, fixed: bool) -> Path:
    target = tmp_path / name
    shutil.copytree(PROJECTS / name, target)
    if fixed:
        path, text, replacement = CASES[name][4]
        source = (target / path).read_text()
        assert text in source
        (target / path).write_text(source.replace(text, replacement))
    return target


def _lint(project: Path, *paths: str, cache=None):
    cwd = os.getcwd()
    os.chdir(project)
    try:
        files = collect_files(paths or (".",))
        results = lint_files(files, Settings(), jobs=1, cache_dir=cache)
    finally:
        os.chdir(cwd)
    return [d for per_file in results for d in per_file]


def _run(project: Path, script: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, script], cwd=project, capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize("name", sorted(CASES))
def test_whole_tree_reports_the_faulty_line_once(name, tmp_path):
    project = _copy(name, tmp_path, fixed=False)
    diags = _lint(project)
    assert [(os.path.normpath(d.path), d.line, d.code) for d in diags] == [CASES[name][1]], diags


@pytest.mark.parametrize("name", sorted(CASES))
def test_only_the_entry_script_reports_at_its_call(name, tmp_path):
    project = _copy(name, tmp_path, fixed=False)
    (diag,) = _lint(project, CASES[name][0])
    file, line, code = CASES[name][1]
    assert (diag.path, diag.line, diag.code) == (*CASES[name][2], code)
    assert diag.message.endswith(f"[in {file}:{line}]")


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixed_project_is_silent(name, tmp_path):
    project = _copy(name, tmp_path, fixed=True)
    assert _lint(project) == []
    assert _lint(project, CASES[name][0]) == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_torch_agrees(name, tmp_path):
    pytest.importorskip("torch")
    buggy = _run(_copy(name, tmp_path / "bug", fixed=False), CASES[name][0])
    assert buggy.returncode != 0 and CASES[name][3] in buggy.stderr, buggy.stderr[-2000:]
    fixed = _run(_copy(name, tmp_path / "ok", fixed=True), CASES[name][0])
    assert fixed.returncode == 0, fixed.stderr[-2000:]


def test_editing_an_imported_module_checks_its_importers_again(tmp_path):
    project = _copy("blocks", tmp_path, fixed=True)
    cache = tmp_path / "cache"
    assert _lint(project, "train.py", cache=cache) == []
    assert _lint(project, "train.py", cache=cache) == []
    net = project / "models" / "net.py"
    net.write_text(net.read_text().replace("conv_bn(3, 64, 2)", "conv_bn(3, 32, 2)"))
    (diag,) = _lint(project, "train.py", cache=cache)
    assert (diag.path, diag.code) == ("train.py", "SL101")
    # whether the imported file is part of the run decides where the finding goes: not from the cache
    assert [(os.path.normpath(d.path), d.line) for d in _lint(project, cache=cache)] == [("models/blocks.py", 15)]


# ----- the resolver and the importer ------------------------------------------------------------------

LAYERS_PY = """\
import torch.nn as nn

WIDTH = 16


def stem(out_channels=WIDTH):
    return nn.Conv2d(3, out_channels, 3, padding=1)


class Head(nn.Module):
    expansion = 2

    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels * self.expansion, 1)

    def forward(self, x):
        return self.conv(x)
"""

MODEL_PY = """\
import torch
import torch.nn as nn
{imports}


class Net(nn.Module):
    def __init__(self, head=Head):
        super().__init__()
        self.stem = stem()
        self.head = head({channels})
        self.fc = nn.Linear(WIDTH * head.expansion, 10)

    def forward(self, x):
        x = self.head(self.stem(x))
        return self.fc(x.mean((2, 3)))


y = Net()(torch.randn(2, 3, 8, 8))
"""


def _write(root: Path, files: dict) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


@pytest.mark.parametrize("layout, imports, model", [
    ("absolute", "from pkg.layers import Head, WIDTH, stem", "pkg/model.py"),
    ("relative", "from .layers import Head, WIDTH, stem", "pkg/model.py"),
    ("parent", "from ..layers import Head, WIDTH, stem", "pkg/sub/model.py"),
    ("module", "import pkg.layers as L\nHead, WIDTH, stem = L.Head, L.WIDTH, L.stem", "pkg/model.py"),
    ("package", "from pkg import Head, WIDTH, stem", "pkg/model.py"),
    ("src", "from pkg.layers import Head, WIDTH, stem", "src/pkg/model.py"),
    ("script", "from pkg.layers import Head, WIDTH, stem", "train.py"),
])
def test_imports_resolve_in_every_layout(layout, imports, model, tmp_path):
    """An imported class, its class attribute, a helper, a constant and a default argument that
    names an imported class all behave as if defined in the file."""
    base = tmp_path / "src" if layout == "src" else tmp_path
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    _write(base, {"pkg/__init__.py": "from .layers import Head, WIDTH, stem\n", "pkg/layers.py": LAYERS_PY,
                  "pkg/sub/__init__.py": ""})
    target = (base if layout != "script" else tmp_path) / model
    _write(target.parent, {target.name: MODEL_PY.format(imports=imports, channels="WIDTH")})
    from shapelint.api import lint_file

    assert lint_file(str(target)).diagnostics == []
    target.write_text(MODEL_PY.format(imports=imports, channels="WIDTH * 2"))
    (diag,) = lint_file(str(target)).diagnostics
    assert diag.code == "SL101" and "Conv2d expects 32 input channels but receives 16" in diag.message, diag
    assert diag.path == str(target) and diag.message.endswith(":15]"), diag


@pytest.mark.parametrize("files", [
    {"a.py": "from b import thing\nimport torch.nn as nn\nthing2 = 1\n", "b.py": "from a import thing2\nthing = 2\n"},
    {"a.py": "from missing.module import Block\nimport torch.nn as nn\n"},
    {"a.py": "from ext import Block\nimport torch.nn as nn\n", "ext.cpython-311-x86_64-linux-gnu.so": "\0binary"},
    {"a.py": "from broken import Block\nimport torch.nn as nn\n", "broken.py": "def (:\n"},
])
def test_missing_compiled_broken_and_cyclic_modules_are_unknown(files, tmp_path):
    _write(tmp_path, files)
    model = tmp_path / "m.py"
    model.write_text("import torch\nimport torch.nn as nn\nfrom a import *\nfrom a import Block, thing, thing2\n\n"
                     "net = nn.Sequential(Block(3), nn.Conv2d(thing2, 8, 3))\ny = net(torch.randn(1, 3, 8, 8))\n")
    from shapelint.api import lint_file

    assert lint_file(str(model)).diagnostics == []


def test_installed_packages_are_read_from_the_configured_environment(tmp_path):
    """``--python`` names the project's interpreter: its site-packages hold the imported source."""
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    _write(site, {"acme_layers/__init__.py": "from .blocks import Head, WIDTH, stem\n",
                  "acme_layers/blocks.py": LAYERS_PY})
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")
    project = tmp_path / "project"
    _write(project, {"model.py": MODEL_PY.format(imports="from acme_layers import Head, WIDTH, stem",
                                                 channels="WIDTH * 2")})
    from shapelint.api import Settings, lint_file

    assert lint_file(str(project / "model.py")).diagnostics == []  # not installed here: unknown
    (diag,) = lint_file(str(project / "model.py"), Settings(python=str(python))).diagnostics
    assert diag.code == "SL101" and diag.message.endswith("acme_layers/blocks.py:15]")


def test_frameworks_are_modelled_not_followed():
    from shapelint.project import followable

    assert not followable("torch.nn.Conv2d") and not followable("tensorflow.keras.layers.Dense")
    assert not followable("keras.layers.Conv2D") and not followable("os.path.join")
    assert followable("torchvision.ops.misc.Conv2dNormActivation") and followable("timm.layers.create_conv2d")
    assert followable("keras.src.applications.resnet.ResNet")
    assert not followable("keras.src.applications.imagenet_utils.correct_pad")


# ----- coverage ---------------------------------------------------------------------------------------


def _cli(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "shapelint", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def test_check_says_what_it_checked_and_what_not(tmp_path):
    project = _copy("blocks", tmp_path, fixed=True)
    done = _cli("check", "--no-cache", ".", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "Checked" not in done.stderr  # the summary stays one line unless asked
    detailed = _cli("check", "--no-cache", "--show-unchecked", ".", cwd=project)
    assert done.stdout == detailed.stdout == ""
    # the block is checked through Net, though not on its own (its channels are parameters)
    assert detailed.stderr.splitlines()[-1] == "Checked 3 models, 12 of 12 layers with known shapes."
    net = project / "models" / "net.py"  # an op shapelint does not model: what comes after it is unknown
    net.write_text(net.read_text().replace("self.block(self.stem(x))", "self.block(torch.roll(self.stem(x), 1, 2))"))
    out = _cli("check", "--no-cache", "--show-unchecked", ".", cwd=project)
    lines = out.stdout.splitlines()
    assert len(lines) == 9 and lines[0] == "models/blocks.py:15:22: unchecked Conv2d: its input is a tensor of " \
                                           "unknown shape (not made by a layer the analysis ran)", lines
    assert out.stderr.splitlines()[-1] == "Checked 3 models, 3 of 12 layers with known shapes.", out.stderr
