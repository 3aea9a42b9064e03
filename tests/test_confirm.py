"""``check --confirm`` and ``shapes --trace``: findings proven or refuted by running the real model.

The CLI runs as a subprocess (as users run it), so the child processes, their time limit and their
isolation are exercised for real.  One run covers the fixtures of all three frameworks (torch,
Keras, raw TensorFlow); one run covers a set of
misbehaving models (a constructor that needs arguments, a forward that sleeps forever, a model
that kills its process, a module that prints and reads stdin).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORKS = ("torch", "keras", "tf")
FIXTURES = [p for framework in FRAMEWORKS for p in sorted((ROOT / "fixtures" / framework).glob("*.py"))]
TORCH_FIXTURES = [p for p in FIXTURES if p.parent.name == "torch"]
CLEAN = [p for p in FIXTURES if p.name.startswith("ok_")]
EXPECT = re.compile(r"#\s*(SL\d{3}(?:[\s,]+SL\d{3})*)\s*$")


def _expects_an_error(path: Path) -> bool:
    from shapelint.rules import RULES

    codes = {code for line in path.read_text().splitlines() for match in [EXPECT.search(line)] if match
             for code in re.split(r"[\s,]+", match.group(1))}
    return any(RULES[code].severity == "error" for code in codes)


BUGS = [p for p in FIXTURES if _expects_an_error(p)]


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


# Fixtures that read datasets run with the test doubles (documented shapes, no downloads, short loops).
DOUBLES = str(ROOT / "tests" / "doubles")


def shapelint(*args, cwd=ROOT, timeout=600) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([DOUBLES, str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "shapelint", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=timeout)


def _error_findings(findings: list) -> list:
    return [f for f in findings if f["severity"] == "error"]


# ----- every error fixture is confirmed -------------------------------------------------------------


@pytest.fixture(scope="module")
def confirmed() -> dict:
    """All fixtures of the three frameworks in one run: one child process per framework."""
    proc = shapelint("check", "--confirm", "--no-cache", "--format", "json", *FIXTURES)
    assert proc.returncode == 1, proc.stderr[-3000:]
    by_file: dict = {}
    for finding in json.loads(proc.stdout):
        by_file.setdefault(_id(Path(finding["path"])), []).append(finding)
    return by_file


@pytest.mark.parametrize("path", BUGS, ids=[_id(p) for p in BUGS])
def test_error_fixture_is_confirmed(path: Path, confirmed: dict):
    errors = _error_findings(confirmed.get(_id(path), []))
    assert errors, "the fixture should have an error finding to confirm"
    for finding in errors:
        assert finding["confirmed"] is True, finding
        assert re.match(r"\w+(Error|Exception)\b", finding["runtime"]), finding["runtime"]


def test_every_framework_has_confirmed_fixtures(confirmed: dict):
    frameworks = {key.split("/")[0] for key, found in confirmed.items() if any(f["confirmed"] for f in found)}
    assert frameworks == set(FRAMEWORKS)


def test_warnings_are_not_run(confirmed: dict):
    warnings = [f for found in confirmed.values() for f in found if f["severity"] != "error"]
    assert warnings, "the fixtures hold warnings too"
    assert all(f["confirmed"] is None and "runtime" not in f for f in warnings)


@pytest.mark.parametrize("framework, name, pattern", [
    ("torch", "bug_lenet_fc_features.py", r":12:\d+: SL102 .* \[confirmed by torch: RuntimeError: .*400.*\]$"),
    ("keras", "bug_subclassed_skip.py", r":12:\d+: SL103 .* \[confirmed by keras: ValueError: Exception encountered "
                                        r"when calling Net\.call\(\): Inputs have incompatible shapes\. .*\]$"),
    ("tf", "bug_pool_batch_stride.py", r":5:\d+: SL302 .* \[confirmed by tf: UnimplementedError: Pooling is not yet "
                                       r"supported on the batch dimension\.\]$"),
])
def test_text_report_names_the_framework(framework, name, pattern):
    proc = shapelint("check", "--confirm", "--no-cache", ROOT / "fixtures" / framework / name)
    assert proc.returncode == 1, proc.stderr
    assert re.search(pattern, proc.stdout.strip()), proc.stdout


def test_without_confirm_nothing_is_run():
    proc = shapelint("check", "--no-cache", "--format", "json", BUGS[0])
    findings = json.loads(proc.stdout)
    assert findings and all(f["confirmed"] is None and "runtime" not in f for f in findings)


def test_confirm_modules_import_no_framework():
    code = ("import sys\n"
            "import shapelint.confirm, shapelint.confirm.plan, shapelint.confirm.trace, shapelint.confirm.process\n"
            "import shapelint.confirm.torch_runtime, shapelint.confirm.child\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'tensorflow', 'keras'))\n"
            "assert not heavy, heavy\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr


# ----- refuted: a claim the runtime does not reproduce ---------------------------------------------


@pytest.mark.parametrize("name", ["ok_lenet.py", "ok_input_comment.py"])
def test_a_false_claim_is_not_reproduced(name, monkeypatch):
    """No fixture holds a false static claim, so plant one: an SL101 on a clean model's first conv.

    ``ok_lenet`` is called by its own module-level code (refuted by that call, rerun on the CPU);
    ``ok_input_comment`` is built from its class with the commented input shape.
    """
    from click.testing import CliRunner

    from shapelint import rules
    from shapelint.cli import cli
    from shapelint.ir import Finding

    original = rules.model_findings

    def with_a_false_claim(model):
        found = original(model)
        conv = next((n for n in model.nodes if n.name == "Conv2d"), None)
        if conv is not None:
            found.append(Finding("SL101", conv.def_site, "planted claim: this conv gets the wrong channels", conv))
        return found

    monkeypatch.setattr(rules, "model_findings", with_a_false_claim)
    path = ROOT / "fixtures" / "torch" / name
    outcome = CliRunner().invoke(cli, ["check", "--confirm", "--no-cache", "--jobs", "1", "--format", "json", str(path)])
    findings = json.loads(outcome.output)
    planted = [f for f in findings if f["message"].startswith("planted claim")]
    assert planted and all(f["confirmed"] is False for f in planted), findings
    assert all(f["runtime"].startswith("ran without error") for f in planted)

    outcome = CliRunner().invoke(cli, ["check", "--confirm", "--no-cache", "--jobs", "1", str(path)])
    assert "planted claim: this conv gets the wrong channels [not reproduced at runtime]" in outcome.output


# ----- models that cannot be built, hang, crash or misbehave ---------------------------------------


MISBEHAVING = {
    "a_needs_args.py": """
        import torch.nn as nn


        class Net(nn.Module):  # shapelint: input=(1, 3, 32, 32)
            def __init__(self, n):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 16, 3)
                self.conv2 = nn.Conv2d(8, n, 3)  # SL101

            def forward(self, x):
                return self.conv2(self.conv1(x))
        """,
    "b_crash.py": """
        import os

        import torch.nn as nn


        class Net(nn.Module):  # shapelint: input=(1, 3, 32, 32)
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 16, 3)
                self.conv2 = nn.Conv2d(8, 16, 3)  # SL101

            def forward(self, x):
                os._exit(7)
                return self.conv2(self.conv1(x))
        """,
    "c_sleeps.py": """
        import time

        import torch.nn as nn


        class Net(nn.Module):  # shapelint: input=(1, 3, 32, 32)
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 16, 3)
                self.conv2 = nn.Conv2d(8, 16, 3)  # SL101

            def forward(self, x):
                time.sleep(1000)
                return self.conv2(self.conv1(x))
        """,
    "d_noisy.py": """
        import os
        import sys

        import torch
        import torch.nn as nn

        print("the user's module talks on stdout")
        try:
            answer = input("and asks for input: ")
        except EOFError:
            answer = None
        assert os.environ["HF_HUB_OFFLINE"] == "1"


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2))
                self.fc = nn.Linear(8 * 14 * 14, 10)  # SL102

            def forward(self, x):
                x = self.features(x)
                return self.fc(x.flatten(1))


        if __name__ == "__main__":
            Net()(torch.randn(4, 1, 28, 28))
        """,
    "e_symbolic.py": """
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 16, 3)
                self.conv2 = nn.Conv2d(8, 16, 3)  # SL101

            def forward(self, x):
                return self.conv2(self.conv1(x))
        """,
    "pkg/__init__.py": "",
    "pkg/blocks.py": """
        import torch.nn as nn


        def conv3x3(cin, cout):
            return nn.Conv2d(cin, cout, 3, padding=1)
        """,
    "pkg/f_relative.py": """
        import torch.nn as nn

        from .blocks import conv3x3


        class Net(nn.Module):  # shapelint: input=(1, 3, 32, 32)
            def __init__(self):
                super().__init__()
                self.a = nn.Conv2d(3, 16, 3)
                self.b = nn.Conv2d(8, 16, 3)  # SL101
                self.head = conv3x3(16, 16)  # from the package: fails unless the relative import works

            def forward(self, x):
                return self.b(self.a(x))
        """,
}
TIMEOUT = 4


@pytest.fixture(scope="module")
def misbehaving(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("misbehaving")
    for name, source in MISBEHAVING.items():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_text(textwrap.dedent(source))
    started = time.monotonic()
    proc = shapelint("check", "--confirm", "--no-cache", "--confirm-timeout", TIMEOUT, "--format", "json", folder,
                     cwd=folder, timeout=300)
    elapsed = time.monotonic() - started
    assert proc.returncode == 1, proc.stderr[-3000:]
    findings = {Path(f["path"]).relative_to(folder).as_posix(): f for f in json.loads(proc.stdout)
                if f["code"] != "SL000"}
    assert set(findings) == {name for name, source in MISBEHAVING.items() if "# SL" in source}, findings
    return {"findings": findings, "elapsed": elapsed, "stdout": proc.stdout}


def test_constructor_that_needs_arguments_gives_null_with_the_reason(misbehaving):
    finding = misbehaving["findings"]["a_needs_args.py"]
    assert finding["confirmed"] is None
    assert finding["runtime"] == "cannot build Net(): Net.__init__() missing 1 required positional argument: 'n'"


def test_a_crashing_model_is_reported_and_the_run_goes_on(misbehaving):
    finding = misbehaving["findings"]["b_crash.py"]
    assert finding["confirmed"] is None
    assert finding["runtime"].startswith("the torch child process died (exit code 7)")


def test_a_model_that_sleeps_forever_times_out(misbehaving):
    finding = misbehaving["findings"]["c_sleeps.py"]
    assert finding["confirmed"] is None
    assert finding["runtime"].startswith(f"timed out after {TIMEOUT} s (running Net in ")
    # One time limit, a few child start-ups (torch import each): far from the 1000 s sleep.
    assert misbehaving["elapsed"] < 120


def test_user_output_and_stdin_do_not_disturb_the_child(misbehaving):
    finding = misbehaving["findings"]["d_noisy.py"]
    assert finding["confirmed"] is True, finding
    assert "the user's module talks" not in misbehaving["stdout"]


def test_symbolic_sizes_are_chosen_and_named(misbehaving):
    finding = misbehaving["findings"]["e_symbolic.py"]
    assert finding["confirmed"] is True, finding
    assert finding["runtime"].endswith("(input (2, 3, 32, 32), chosen for the symbolic sizes: N=2, H=W=32)")


def test_relative_imports_resolve_in_the_package(misbehaving):
    finding = misbehaving["findings"]["pkg/f_relative.py"]
    assert finding["confirmed"] is True, finding


# ----- shapes --trace --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def traced() -> dict:
    from shapelint.confirm.trace import trace_paths

    by_file: dict = {}
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([DOUBLES] + ([saved] if saved else []))  # the children's
    try:
        for model in trace_paths([str(p) for p in FIXTURES]):
            by_file.setdefault(_id(Path(model["path"])), []).append(model)
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved
    return by_file


def _fatal_lines(path: Path) -> set:
    """Lines of the layers the static analysis knows fail: on their input, or on every input size
    (the input-size solver's findings)."""
    from shapelint.api import Settings, lint_file
    from shapelint.rules.symbolic import findings as size_findings

    result = lint_file(str(path), Settings(), want_models=True)
    failing = {node for model in result.models for node in model.nodes if any(p.fatal for p in node.problems)}
    failing |= {finding.node for model in result.models for finding in size_findings(model)}
    return {result.positions.span(node.call_site).line for node in failing}


@pytest.mark.parametrize("path", FIXTURES, ids=[_id(p) for p in FIXTURES])
def test_trace_agrees_with_static_shapes(path: Path, traced: dict):
    models = traced[_id(path)]
    disagreements = [(m["model"], layer) for m in models for layer in m["layers"] if layer["agrees"] is False]
    assert not disagreements
    compared = sum(1 for m in models for layer in m["layers"] if layer["agrees"] is True)
    ran = any(layer["runtime_output_shape"] is not None for m in models for layer in m["layers"])
    if path.name.startswith("ok_") and ran:
        assert compared, "a clean fixture whose layers ran should have runtime shapes to compare"
    fatal = _fatal_lines(path)
    for model in models:
        error = (model["runtime"] or {}).get("error")
        if error is None:
            continue
        # The runtime fails only where the static analysis knows a layer fails (a clean fixture may
        # hold such a call inside a try block that handles the error).
        assert error["line"] in fatal, (model["model"], error)


def test_trace_compares_most_clean_fixtures(traced: dict):
    """A clean fixture compares nothing only when its layers do not run on import (a model built
    inside a ``__main__`` block, a model that only runs on inputs the module never makes)."""
    idle = [_id(p) for p in CLEAN
            if not any(layer["agrees"] is True for m in traced[_id(p)] for layer in m["layers"])]
    assert len(idle) <= max(2, len(CLEAN) // 20), idle


def test_clean_fixtures_run_clean(traced: dict):
    failed = {}
    for path in CLEAN:
        fatal = _fatal_lines(path)
        for model in traced[_id(path)]:
            error = (model["runtime"] or {}).get("error")
            if error is not None and error["line"] not in fatal:
                failed[_id(path)] = error
    assert not failed


def test_trace_text_marks_disagreements():
    from shapelint.confirm.trace import match_layers, render

    layers = [{"line": 5, "column": 1, "op": "Conv2d", "input_shape": [1, 3, 8, 8], "output_shape": [1, 4, 6, 6]},
              {"line": 6, "column": 1, "op": "F.relu", "input_shape": [1, 4, 6, 6], "output_shape": [1, 4, 6, 6]}]
    match_layers(layers, [[5, "Conv2d", [1, 4, 6, 6]], [6, "relu", [1, 4, 5, 5]]])
    assert [layer["agrees"] for layer in layers] == [True, False]
    text = render([{"path": "m.py", "model": "Net", "framework": "torch", "input": [1, 3, 8, 8],
                    "input_source": "comment", "layers": layers, "runtime": {"device": "meta"}}])
    assert re.search(r"Conv2d +\[1, 3, 8, 8\] -> \[1, 4, 6, 6\] +== \[1, 4, 6, 6\]$", text, re.MULTILINE), text
    assert re.search(r"F\.relu +\[1, 4, 6, 6\] -> \[1, 4, 6, 6\] +!= \[1, 4, 5, 5\]$", text, re.MULTILINE), text
    assert "1 layer disagrees (!=)" in text


def test_shapes_trace_cli():
    proc = shapelint("shapes", "--trace", ROOT / "fixtures" / "torch" / "bug_lenet_fc_features.py")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"line +21 +Tensor\.view .*-> \[2, 400\] +== \[2, 400\]", proc.stdout), proc.stdout
    assert "runtime raised at line 22: RuntimeError" in proc.stdout
    proc = shapelint("shapes", "--trace", "--format", "json", ROOT / "fixtures" / "torch" / "ok_lenet.py")
    (model,) = json.loads(proc.stdout)
    assert all(layer["agrees"] is True for layer in model["layers"]), model


def test_each_file_imports_its_own_helpers(tmp_path):
    """Two model files each next to their own ``helper.py``: the second must not get the first's."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "helper.py").write_text(f"VALUE = {name!r}\n")
        (tmp_path / name / "model.py").write_text("import helper\n\nVALUE = helper.VALUE\n")
    code = ("import sys\n"
            "from shapelint.confirm.runner import TARGET_MODULE, import_module\n"
            "values = []\n"
            "for name in ('a', 'b'):\n"
            "    namespace, error = import_module(sys.argv[1] + '/' + name + '/model.py', lambda run: run())\n"
            "    assert error is None, error\n"
            "    assert namespace['__name__'] == TARGET_MODULE\n"
            "    values.append(namespace['VALUE'])\n"
            "print(values)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['a', 'b']"


def test_the_wheel_lists_the_confirm_package():
    import tomllib

    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    assert "shapelint.confirm" in packages
