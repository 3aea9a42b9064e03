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
