"""``check --fix``: each fix kind turns buggy fixtures into programs that lint clean and run clean in
the real framework; ``--diff`` shows exactly what ``--fix`` writes; without ``--fix`` nothing is
written; fixes keep the text around them as it was."""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
# The script that runs fixtures in each framework (one child process, one framework import) and
# prints what each raised; the same harness the runtime cross-checks use.
HARNESS = {"torch": "test_runtime.py", "keras": "test_keras.py", "tf": "test_tfnn.py"}

# Every fixture `--fix --unsafe-fixes` must repair, with the fix kinds it needs.  A fixer that
# regresses leaves its fixture unchanged or failing; a fixer that starts touching another fixture
# must be added here once that fixture is shown to run.
REPAIRED = {
    "torch": {
        "bug_padding_uppercase.py": "padding 'SAME' -> 'same' (safe)",
        "bug_padding_same_strided.py": "padding='same' at stride 2 -> explicit padding",
        "bug_batchnorm_channels.py": "BatchNorm num_features",
        "bug_lenet_conv_channels.py": "Conv2d in_channels",
        "bug_conv1d_channels.py": "Conv1d in_channels",
        "bug_module_level_script.py": "Conv2d in_channels in a script",
        "bug_lenet_fc_features.py": "in_features written as 16 * 4 * 4",
        "bug_constructor_kwargs.py": "Linear in_features",
        "bug_ordereddict_linear.py": "Linear in_features in an OrderedDict",
        "bug_resnet_fc_expansion.py": "Linear in_features",
        "bug_lstm_input_size.py": "LSTM input_size",
        "bug_mnist_view_320.py": "view(-1, 320), then the Linear after it",
        "bug_view_elements.py": "view(-1, 16 * 5 * 5), then the Linear after it",
        "bug_sequential_missing_flatten.py": "Flatten() inserted in an nn.Sequential",
        "bug_forward_missing_flatten.py": ".flatten(1) in forward",
        "bug_named_feature_count.py": "a named constant assigned once",
        "bug_batchnorm1d_on_4d.py": "BatchNorm1d after a Conv2d -> BatchNorm2d",
        "bug_batchnorm2d_on_conv1d.py": "BatchNorm2d after a Conv1d -> BatchNorm1d",
        "bug_lenet_mnist_loader.py": "Linear in_features for the 28 px images the DataLoader yields",
    },
    "keras": {"bug_keras1_positional.py": "Convolution2D(32, 3, 3) -> (32, (3, 3)) (safe)",
              "bug_fit_no_flatten.py": "Flatten() added before the Dense that fit's targets need"},
    "tf": {
        "bug_padding_lowercase.py": "tf.nn padding 'same' -> 'SAME' (safe)",
        "bug_lesson_quiz_depth.py": "conv2d filter depth in a tuple literal",
        "bug_helper_filter_depth.py": "conv2d filter depth in a weights dict",
        "bug_depthwise_channels.py": "depthwise_conv2d filter depth",
        "bug_separable_depthwise.py": "separable_conv2d depthwise filter depth",
        "bug_matmul_operator.py": "@ weight rows written as 8 * 8 * 8",
        "bug_lenet_fc_weight.py": "matmul weight rows written as 5*5*32",
    },
}
# Warnings, not errors: these run before the fix too (Keras 2+ strides by 3 where Keras 1 meant a
# 3x3 kernel), and after it they run as written for.
RUN_BEFORE = {"bug_keras1_positional.py"}


def shapelint(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "shapelint", *args], capture_output=True, text=True,
                          env=env, timeout=600, cwd=cwd)


def run_in_framework(framework: str, paths: list) -> dict:
    """What each file raised in the real framework (None: it ran clean), all in one child process."""
    # tests/doubles: datasets of the documented shapes without downloads, short fits
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "tests" / "doubles"), str(ROOT)]),
               PYTHONWARNINGS="ignore", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / HARNESS[framework]), *map(str, paths)],
                          capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    return {path: found["error"] for path, found in results.items() if path != "windows"}


@pytest.mark.parametrize("framework", sorted(REPAIRED))
def test_fixed_fixtures_lint_clean_and_run_clean(framework, tmp_path):
    tree = tmp_path / framework
    shutil.copytree(FIXTURES / framework, tree)
    before = {p.name: p.read_bytes() for p in tree.glob("*.py")}

    preview = shapelint("check", "--diff", "--unsafe-fixes", "--no-cache", str(tree))
    assert preview.returncode == 1, preview.stderr
    assert {p.name: p.read_bytes() for p in tree.glob("*.py")} == before, "--diff wrote a file"

    fixed = shapelint("check", "--fix", "--unsafe-fixes", "--no-cache", str(tree))
    assert fixed.returncode in (0, 1), fixed.stderr
    after = {p.name: p.read_bytes() for p in tree.glob("*.py")}
    changed = sorted(name for name in after if after[name] != before[name])
    assert changed == sorted(REPAIRED[framework])
    assert not [name for name in changed if name.startswith("ok_")]

    # --diff shows exactly what --fix wrote
    expected_diff = "".join(
        "".join(difflib.unified_diff(before[name].decode().splitlines(keepends=True),
                                     after[name].decode().splitlines(keepends=True),
                                     fromfile=f"a/{tree / name}", tofile=f"b/{tree / name}"))
        for name in sorted(changed))
    assert preview.stdout == expected_diff

    paths = [tree / name for name in changed]
    clean = shapelint("check", "--no-cache", *map(str, paths))
    assert clean.returncode == 0, clean.stdout
    assert clean.stdout == ""

    originals = [FIXTURES / framework / name for name in changed]
    errors = run_in_framework(framework, paths + originals)
    assert {path.name: errors[str(path)] for path in paths} == {name: None for name in changed}
    # and the originals did fail there: each repair turned a failing program into one that runs
    assert {path.name for path in originals if errors[str(path)] is None} == RUN_BEFORE & set(changed), errors


BUGGY = textwrap.dedent("""\
    import torch
    import torch.nn as nn

    model = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding="SAME"),   # first block
        nn.Conv2d( 32 ,8, 3),  # keeps its spacing
    )
    y = model(torch.randn(1, 3, 32, 32))
""")


def test_safe_fixes_only_without_unsafe_fixes(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(BUGGY)
    plain = shapelint("check", "--no-cache", str(path))
    assert plain.returncode == 1 and path.read_text() == BUGGY, "check without --fix wrote the file"
    assert plain.stderr.endswith(
        "[*] 1 fixable with the --fix option (1 hidden fix can be enabled with the --unsafe-fixes option).\n")

    safe = shapelint("check", "--fix", "--no-cache", str(path))
    assert path.read_text() == BUGGY.replace('"SAME"', '"same"')
    assert safe.returncode == 1 and "SL101" in safe.stdout and "SL303" not in safe.stdout

    unsafe = shapelint("check", "--fix", "--unsafe-fixes", "--no-cache", str(path))
    assert unsafe.returncode == 0 and unsafe.stdout == ""
    # only the argument changed: spacing and comments as written
    assert path.read_text() == BUGGY.replace('"SAME"', '"same"').replace("nn.Conv2d( 32 ,8, 3)", "nn.Conv2d( 16 ,8, 3)")


def test_diff_exit_codes(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(BUGGY)
    assert shapelint("check", "--diff", "--no-cache", str(path)).returncode == 1
    assert path.read_text() == BUGGY
    clean = tmp_path / "clean.py"
    clean.write_text(BUGGY.replace('"SAME"', '"same"').replace("( 32 ,", "( 16 ,"))
    result = shapelint("check", "--diff", "--no-cache", str(clean))
    assert result.returncode == 0 and result.stdout == ""


def _fix_of(source: str):
    from shapelint.api import lint_source

    diagnostics = lint_source(source, "net.py").diagnostics
    assert len(diagnostics) == 1, diagnostics
    return diagnostics[0].fix


def test_a_name_read_twice_is_not_rewritten():
    source = textwrap.dedent("""\
        import torch
        import torch.nn as nn

        width = 100
        model = nn.Sequential(nn.Flatten(), nn.Linear(width, width), nn.ReLU())
        y = model(torch.randn(2, 1, 8, 8))
    """)
    assert _fix_of(source) is None
    # read once: the literal where the name is assigned is rewritten
    once = source.replace("nn.Linear(width, width)", "nn.Linear(width, 10)")
    fix = _fix_of(once)
    assert fix is not None and [(e.line, e.content) for e in fix.edits] == [(4, "64")]


def test_a_value_computed_from_attributes_is_not_rewritten():
    source = textwrap.dedent("""\
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.in_planes = 16
                self.conv = nn.Conv2d(3, self.in_planes, 3)
                self.bn = nn.BatchNorm2d(self.in_planes * 2)

            def forward(self, x):
                return self.bn(self.conv(x))

        y = Net()(torch.randn(1, 3, 8, 8))
    """)
    assert _fix_of(source) is None


def test_notebooks_are_not_fixed(tmp_path):
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": BUGGY.splitlines(keepends=True)}
    notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "net.ipynb"
    path.write_text(json.dumps(notebook))
    before = path.read_text()
    result = shapelint("check", "--fix", "--unsafe-fixes", "--no-cache", str(path))
    assert result.returncode == 1 and path.read_text() == before


def test_moved_line():
    from shapelint.fix import Edit
    from shapelint.fixer import moved_line

    insert_two = Edit(3, 1, 3, 1, "a\nb\n")
    assert moved_line(5, [insert_two]) == 7
    assert moved_line(2, [insert_two]) == 2
    join = Edit(3, 5, 4, 2, "x")
    assert moved_line(5, [join]) == 4


def test_a_fix_that_breaks_another_use_is_not_applied():
    """One weight, two convolutions: the depth the first needs breaks the second, and the second's
    fix breaks the first again; no fix proves itself, nothing is written."""
    from shapelint.fixer import fix_source

    source = textwrap.dedent("""\
        import tensorflow as tf

        rgb = tf.placeholder(tf.float32, [None, 8, 8, 3])
        rgba = tf.placeholder(tf.float32, [None, 8, 8, 4])
        w = tf.Variable(tf.zeros([3, 3, 4, 8]))
        a = tf.nn.conv2d(rgb, w, [1, 1, 1, 1], 'SAME')
        b = tf.nn.conv2d(rgba, w, [1, 1, 1, 1], 'SAME')
    """)
    result = fix_source(source, "net.py", unsafe=True)
    assert result.source == source and result.applied == []
    assert [d.code for d in result.remaining] == ["SL101"]
    # the finding carries its fix all the same: the proof is what --fix adds
    assert result.remaining[0].fix is not None


def test_an_unsafe_fix_is_followed_by_the_fixes_it_calls_for():
    """view(-1, 320) fixed to view(-1, 500) makes the Linear after it a new finding, which its own
    fix repairs: both are applied, as one proven step."""
    from shapelint.fixer import fix_source

    source = (FIXTURES / "torch" / "bug_mnist_view_320.py").read_text()
    result = fix_source(source, "net.py", unsafe=True)
    assert [d.code for d in result.applied] == ["SL102", "SL102"]
    assert "x.view(-1, 500)" in result.source and "nn.Linear(500, 50)" in result.source
    assert result.remaining == []
    # the first fix alone is not proven: it leaves a finding the file did not have
    from shapelint.api import lint_source
    from shapelint.fix import apply_edits

    [view] = lint_source(source, "net.py").diagnostics
    halfway = lint_source(apply_edits(source, view.fix.edits), "net.py").diagnostics
    assert [d.line for d in halfway] == [14]


def test_fixes_survive_the_result_cache(tmp_path):
    """A cached finding keeps its fix; an entry whose fix is malformed is a miss, not a crash."""
    import json as json_module

    path = tmp_path / "net.py"
    path.write_text(BUGGY)
    cache = tmp_path / "cache"
    first = shapelint("check", "--output-format", "json", "--cache-dir", str(cache), str(path))
    second = shapelint("check", "--output-format", "json", "--cache-dir", str(cache), str(path))
    assert first.stdout == second.stdout and '"fix": {' in second.stdout
    [entry] = list(cache.rglob("*.json"))
    stored = json_module.loads(entry.read_text())
    assert all(item["fix"] is not None for item in stored["findings"])
    for item in stored["findings"]:
        item["fix"]["edits"] = [{"line": "1"}]
    entry.write_text(json_module.dumps(stored))
    third = shapelint("check", "--output-format", "json", "--cache-dir", str(cache), str(path))
    assert third.stdout == first.stdout
