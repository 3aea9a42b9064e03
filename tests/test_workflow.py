"""The day-to-day workflow, run as users run it (``python -m shapelint check ...`` in a project
directory): configuration errors, text output, suppressions, file discovery, standard input."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

BUGGY = textwrap.dedent("""\
    import torch
    import torch.nn as nn

    model = nn.Sequential(
        nn.Conv2d(3, 16, 3),
        nn.Conv2d(32, 8, 3),
    )
    y = model(torch.randn(1, 3, 32, 32))
""")
SL101_LINE = ("bad.py:6:5: SL101 Conv2d expects 32 input channels but receives 16 (from Conv2d at line 5; "
              "input [1, 16, 30, 30])")
# Two bugs, one per rule: a channel mismatch (SL101) and a Linear of the wrong size (SL102).
TWO_BUGS = textwrap.dedent("""\
    import torch
    import torch.nn as nn

    model = nn.Sequential(
        nn.Conv2d(3, 16, 3),
        nn.Conv2d(32, 8, 3),
    )
    head = nn.Sequential(nn.Flatten(), nn.Linear(100, 10))
    y = model(torch.randn(1, 3, 32, 32))
    z = head(torch.randn(1, 8, 4, 4))
""")
NET = textwrap.dedent("""\
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)
            self.pool = nn.MaxPool2d(2)

        def forward(self, x):
            return self.pool(self.conv(x))
""")
# A 2x2 input, then two strided convolutions: the second downsamples a 1x1 map (SL202, a warning).
WARNING = textwrap.dedent("""\
    import torch
    import torch.nn as nn

    model = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.Conv2d(8, 8, 3, stride=2, padding=1))
    y = model(torch.randn(1, 3, 2, 2))
""")


def shapelint(*args, cwd, stdin=None, env=None):
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    for name in ("NO_COLOR", "FORCE_COLOR"):
        environment.pop(name, None)
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "shapelint", *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, env=environment, timeout=300)


def on_terminal(*args, cwd, env=None):
    """Run with stdout and stderr on terminals (two pseudo-terminals): (stdout, stderr, exit code)."""
    environment = dict(os.environ, PYTHONPATH=str(ROOT), TERM="xterm")
    for name in ("NO_COLOR", "FORCE_COLOR"):
        environment.pop(name, None)
    environment.update(env or {})
    out_master, out_slave = pty.openpty()
    err_master, err_slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "shapelint", *args], cwd=cwd, stdout=out_slave,
                               stderr=err_slave, stdin=subprocess.DEVNULL, env=environment)
    os.close(out_slave)
    os.close(err_slave)
    chunks = {out_master: b"", err_master: b""}
    open_fds = set(chunks)
    while open_fds:
        ready, _, _ = select.select(list(open_fds), [], [], 120)
        if not ready:
            process.kill()
            raise AssertionError("no output for 120 s")
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the other end closed
                data = b""
            if data:
                chunks[fd] += data
            else:
                open_fds.discard(fd)
    code = process.wait(timeout=120)
    os.close(out_master)
    os.close(err_master)
    decode = lambda raw: raw.decode("utf-8", "replace").replace("\r\n", "\n")  # noqa: E731
    return decode(chunks[out_master]), decode(chunks[err_master]), code


# --- 2. misconfiguration is a usage error that says what is known ---------------------------------

def test_unknown_rule_codes_on_the_command_line_are_usage_errors(tmp_path):
    (tmp_path / "bad.py").write_text(BUGGY)
    for option in ("--select", "--ignore", "--extend-select"):
        result = shapelint("check", option, "SL999", "bad.py", cwd=tmp_path)
        assert result.returncode == 2, (option, result.stdout, result.stderr)
        assert "'SL999'" in result.stderr and "SL101" in result.stderr and "SL305" in result.stderr
        assert "All checks passed" not in result.stderr + result.stdout
    # a prefix of real codes is fine; one of none is not
    assert shapelint("check", "--select", "SL1", "bad.py", cwd=tmp_path).returncode == 1
    assert shapelint("check", "--select", "SL9", "bad.py", cwd=tmp_path).returncode == 2


def test_unknown_rule_codes_in_pyproject_are_usage_errors(tmp_path):
    (tmp_path / "bad.py").write_text(BUGGY)
    for table in ('select = ["E501"]', 'ignore = ["SL1", "X1"]', 'extend-select = ["SL999"]',
                  'per-file-ignores = { "tests/*" = ["E501"] }'):
        (tmp_path / "pyproject.toml").write_text(f"[tool.shapelint]\n{table}\n")
        result = shapelint("check", cwd=tmp_path)
        assert result.returncode == 2, (table, result.stdout, result.stderr)
        assert "pyproject.toml" in result.stderr and "unknown rule code or prefix" in result.stderr
        assert "known rules: SL000" in result.stderr


def test_the_known_codes_come_from_the_live_registry(tmp_path, monkeypatch):
    """A rule added to the registry is selectable at once (no second list of codes to update)."""
    from click.testing import CliRunner

    from shapelint import rules
    from shapelint.cli import cli
    from shapelint.rules.base import Rule

    monkeypatch.setitem(rules.RULES, "SL999", Rule("SL999", "planted", "error", "a rule added later"))
    (tmp_path / "bad.py").write_text(BUGGY)
    outcome = CliRunner().invoke(cli, ["check", "--no-cache", "--select", "SL999", str(tmp_path / "bad.py")])
    assert outcome.exit_code == 0, outcome.output


def test_repeated_options_accumulate(tmp_path):
    (tmp_path / "bad.py").write_text(TWO_BUGS)
    both = shapelint("check", "--select", "SL101", "--select", "SL102", "bad.py", cwd=tmp_path)
    assert [line.split()[1] for line in both.stdout.splitlines()] == ["SL101", "SL102"], both.stdout
    neither = shapelint("check", "--ignore", "SL101", "--ignore", "SL102", "bad.py", cwd=tmp_path)
    assert neither.returncode == 0 and neither.stdout == ""
    comma = shapelint("check", "--select", "SL101,SL102", "bad.py", cwd=tmp_path)
    assert comma.stdout == both.stdout
    shown = shapelint("check", "--select", "SL1", "--select", "SL202", "--exclude", "a/*", "--exclude", "b/*",
                      "--show-settings", cwd=tmp_path).stdout
    from shapelint.rules import RULES

    expected = ", ".join(c for c in sorted(RULES) if c.startswith("SL1") or c == "SL202")
    assert f"enabled rules: {expected}\n" in shown and "SL201" not in shown, shown
    assert "exclude: ['a/*', 'b/*']\n" in shown


def test_a_misspelt_model_name_is_a_usage_error_naming_the_models_found(tmp_path):
    (tmp_path / "net.py").write_text(NET)
    result = shapelint("check", "--input-shape", "Nett=1,3,32,32", "net.py", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "'Nett'" in result.stderr and "models found: Net" in result.stderr
    assert result.stdout == ""
    result = shapelint("check", "--input-shape", "net.py:Nett=1,3,32,32", "net.py", cwd=tmp_path)
    assert result.returncode == 2 and "models found: Net" in result.stderr
    result = shapelint("check", "--input-shape", "other.py:Net=1,3,32,32", "net.py", cwd=tmp_path)
    assert result.returncode == 2 and "no linted file matches 'other.py'" in result.stderr
    good = shapelint("check", "--input-shape", "Net=1,3,2,2", "net.py", cwd=tmp_path)
    assert good.returncode == 1 and "SL201" in good.stdout, good.stdout + good.stderr  # 2x2 - 3x3 kernel
    assert shapelint("check", "--input-shape", "Net=1,3,32,32", "net.py", cwd=tmp_path).returncode == 0


def test_a_model_held_in_a_variable_can_be_named(tmp_path):
    (tmp_path / "bad.py").write_text(BUGGY)
    result = shapelint("check", "--input-shape", "model=1,3,32,32", "bad.py", cwd=tmp_path)
    assert result.returncode == 1 and "SL101" in result.stdout, result.stderr


def test_misspelt_model_in_pyproject_inputs(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "net.py").write_text(NET)
    (tmp_path / "pyproject.toml").write_text('[tool.shapelint.inputs]\n"models/net.py:Nett" = [1, 3, 32, 32]\n')
    result = shapelint("check", cwd=tmp_path)
    assert result.returncode == 2 and "'Nett'" in result.stderr and "models found: Net" in result.stderr
    # pre-commit passes only the changed files: an entry for a file not linted is not checked
    (tmp_path / "other.py").write_text("import torch\n")
    assert shapelint("check", "other.py", cwd=tmp_path).returncode == 0
    (tmp_path / "pyproject.toml").write_text('[tool.shapelint.inputs]\n"model/net.py:Net" = [1, 3, 32, 32]\n')
    result = shapelint("check", cwd=tmp_path)  # a misspelt file, and the whole project was linted
    assert result.returncode == 2 and "no linted file matches 'model/net.py'" in result.stderr
    assert shapelint("check", "other.py", cwd=tmp_path).returncode == 0
    (tmp_path / "pyproject.toml").write_text('[tool.shapelint.inputs]\nNett = [1, 3, 32, 32]\n')
    assert shapelint("check", cwd=tmp_path).returncode == 2  # the whole project was linted
    assert shapelint("check", "other.py", cwd=tmp_path).returncode == 0  # not provable from one file
    (tmp_path / "pyproject.toml").write_text('[tool.shapelint.inputs]\n"models/net.py:Net" = [1, 3, 2, 2]\n')
    result = shapelint("check", cwd=tmp_path)
    assert result.returncode == 1 and "SL201" in result.stdout, result.stderr


@pytest.mark.parametrize("shape", ["1,3,x", "1,3,,32", "one,two", "1,3,0,32", "1x3xx", "1,3;32,32"])
def test_malformed_shapes_are_usage_errors(tmp_path, shape):
    (tmp_path / "net.py").write_text(NET)
    result = shapelint("check", "--input-shape", f"Net={shape}", "net.py", cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert "positive integers" in result.stderr and "SL105" not in result.stdout


# --- 3. text output --------------------------------------------------------------------------------

def test_piped_output_is_the_one_line_contract_with_paths_relative_to_the_current_directory(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "bad.py").write_text(BUGGY)
    result = shapelint("check", str(tmp_path / "src"), cwd=tmp_path)
    assert result.stdout == f"src/{SL101_LINE}\n"
    inside = shapelint("check", ".", cwd=tmp_path / "src")
    assert inside.stdout == f"{SL101_LINE}\n"
    assert inside.stderr == ("Found 1 finding in 1 file (1 error).\n"
                             "No fixes available (1 hidden fix can be enabled with the --unsafe-fixes option).\n")


def test_full_output_shows_severity_source_and_caret(tmp_path):
    (tmp_path / "bad.py").write_text(BUGGY)
    result = shapelint("check", "--output-format", "full", "bad.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == textwrap.dedent("""\
        error[SL101]: Conv2d expects 32 input channels but receives 16 (from Conv2d at line 5; input [1, 16, 30, 30])
         --> bad.py:6:5
          |
        5 |     nn.Conv2d(3, 16, 3),
        6 |     nn.Conv2d(32, 8, 3),
          |     ^^^^^^^^^^^^^^^^^^^ SL101
        7 | )
          |
        """)
    assert shapelint("check", "--output-format", "concise", "bad.py", cwd=tmp_path).stdout == SL101_LINE + "\n"


def test_warnings_say_so(tmp_path):
    (tmp_path / "w.py").write_text(WARNING)
    concise = shapelint("check", "w.py", cwd=tmp_path)
    assert concise.stdout.startswith("w.py:4:64: SL202 [warning] Conv2d downsamples"), concise.stdout
    assert concise.stderr == "Found 1 finding in 1 file (1 warning).\n"
    full = shapelint("check", "--output-format", "full", "w.py", cwd=tmp_path)
    assert full.stdout.startswith("warning[SL202]: Conv2d downsamples")


def test_on_a_terminal_the_output_is_full_and_coloured(tmp_path):
    (tmp_path / "bad.py").write_text(BUGGY)
    out, err, code = on_terminal("check", "bad.py", cwd=tmp_path)
    assert code == 1
    assert "\x1b[1;31merror\x1b[0m\x1b[1;31m[SL101]\x1b[0m" in out
    assert "\x1b[1;31m^^^^^^^^^^^^^^^^^^^\x1b[0m" in out and " \x1b[34m-->\x1b[0m bad.py:6:5" in out
    assert "Found 1 finding" in err
    plain, _, _ = on_terminal("check", "bad.py", cwd=tmp_path, env={"NO_COLOR": "1"})
    assert "\x1b[" not in plain and plain.startswith("error[SL101]: Conv2d expects 32")
    assert " --> bad.py:6:5\n" in plain and "  |     ^^^^^^^^^^^^^^^^^^^ SL101\n" in plain
    # NO_COLOR wins over FORCE_COLOR; FORCE_COLOR colours a pipe
    assert "\x1b[" not in on_terminal("check", "bad.py", cwd=tmp_path, env={"NO_COLOR": "1", "FORCE_COLOR": "1"})[0]
    forced = shapelint("check", "bad.py", cwd=tmp_path, env={"FORCE_COLOR": "1"})
    assert forced.stdout.startswith("\x1b[1mbad.py:6:5\x1b[0m: \x1b[1;31mSL101\x1b[0m Conv2d expects")
    assert shapelint("check", "bad.py", cwd=tmp_path).stdout == SL101_LINE + "\n"


def test_statistics_and_quiet(tmp_path):
    (tmp_path / "a.py").write_text(TWO_BUGS)
    (tmp_path / "b.py").write_text(BUGGY)
    (tmp_path / "w.py").write_text(WARNING)
    result = shapelint("check", "--statistics", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["2\tSL101\t[error] channel-mismatch", "1\tSL102\t[error] feature-mismatch",
                                          "1\tSL202\t[warning] downsample-at-1x1"]
    data = json.loads(shapelint("check", "--statistics", "--format", "json", ".", cwd=tmp_path).stdout)
    assert data[0] == {"code": "SL101", "name": "channel-mismatch", "count": 2, "severity": "error"}
    quiet = shapelint("check", "-q", ".", cwd=tmp_path)
    assert quiet.returncode == 1 and quiet.stderr == "" and quiet.stdout.count("\n") == 4
    silent = shapelint("check", "--silent", ".", cwd=tmp_path)
    assert silent.returncode == 1 and silent.stdout == silent.stderr == ""


def test_a_long_run_shows_progress_on_a_terminal_only(tmp_path):
    # long enough (several seconds on a fast machine) that the progress line's one-second delay passes
    layers = "".join(f"    nn.Conv2d(8, 8, 3, padding=1),\n    nn.ReLU(),\n" for _ in range(300))
    model = f"import torch\nimport torch.nn as nn\n\nmodel = nn.Sequential(\n{layers})\n" \
            "y = model(torch.randn(1, 8, 64, 64))\n"
    for i in range(60):
        (tmp_path / f"m{i:03d}.py").write_text(model.replace("(8, 8", f"(8, 8 + {i} - {i}", 1))
    out, err, code = on_terminal("check", "--no-cache", "-j", "1", ".", cwd=tmp_path)
    assert code == 0, out + err
    assert "files checked" in err and "/60 files checked" in err, err
    assert err.rstrip().endswith("All checks passed (60 files).")
    piped = shapelint("check", "--no-cache", "-j", "1", ".", cwd=tmp_path)
    assert "files checked" not in piped.stderr


# --- 4. suppressions --------------------------------------------------------------------------------

def test_unused_suppression_is_reported_only_where_provably_unused(tmp_path):
    (tmp_path / "m.py").write_text(textwrap.dedent("""\
        import torch
        import torch.nn as nn

        model = nn.Sequential(
            nn.Conv2d(3, 16, 3),  # noqa: SL101
            nn.Conv2d(16, 8, 3),  # noqa: E501, SL102
            nn.Conv2d(8, 8, 3),  # noqa
        )
        y = model(torch.randn(1, 3, 32, 32))


        class Unknown(nn.Module):
            def __init__(self, channels):
                super().__init__()
                self.conv = nn.Conv2d(channels, 8, 3)  # noqa: SL101

            def forward(self, x):
                return self.conv(x)
    """))
    assert shapelint("check", "m.py", cwd=tmp_path).stdout == ""  # off by default
    result = shapelint("check", "--extend-select", "SL002", "m.py", cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert [line.split(":")[1:3] + [line.split()[1]] for line in lines] == [
        ["5", "27", "SL002"], ["6", "27", "SL002"]], result.stdout
    assert "SL101 reports nothing" in lines[0] and "SL102 reports nothing" in lines[1]
    assert result.returncode == 1  # a warning fails at the default fail-on


def test_add_noqa_writes_the_comments_and_nothing_else(tmp_path):
    source = TWO_BUGS.replace("nn.Linear(100, 10))", "nn.Linear(100, 10))  # keep this comment")
    source = source.replace("nn.Conv2d(32, 8, 3),", "nn.Conv2d(32, 8, 3),  # noqa: E501")
    (tmp_path / "a.py").write_bytes(source.replace("\n", "\r\n").encode())
    (tmp_path / "clean.py").write_text(NET)
    before = (tmp_path / "clean.py").stat().st_mtime_ns
    result = shapelint("check", "--add-noqa", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "Added 2 noqa directives.\n" and result.stdout == ""
    text = (tmp_path / "a.py").read_bytes().decode()
    assert "    nn.Conv2d(32, 8, 3),  # noqa: E501, SL101\r\n" in text
    assert "nn.Linear(100, 10))  # keep this comment  # noqa: SL102\r\n" in text
    assert text.count("\r\n") == source.count("\n") and "\n" not in text.replace("\r\n", "")
    assert (tmp_path / "clean.py").stat().st_mtime_ns == before
    assert shapelint("check", ".", cwd=tmp_path).returncode == 0
    again = shapelint("check", "--add-noqa", ".", cwd=tmp_path)
    assert again.stderr == "Added 0 noqa directives.\n"
    assert shapelint("check", "--extend-select", "SL002", ".", cwd=tmp_path).returncode == 0


def test_add_noqa_never_writes_inside_a_string(tmp_path):
    source = BUGGY.replace("nn.Conv2d(32, 8, 3),", 'nn.Conv2d(32, 8, 3, padding_mode="""zeros"""),')
    (tmp_path / "m.py").write_text(source)
    shapelint("check", "--add-noqa", "m.py", cwd=tmp_path)
    assert shapelint("check", "m.py", cwd=tmp_path).returncode == 0
    compile((tmp_path / "m.py").read_text(), "m.py", "exec")


# --- 5. file discovery and standard input ------------------------------------------------------------

def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_gitignored_files_are_skipped_unless_asked(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("generated/\n*_out.py\n!keep_out.py\n")
    for name in ("generated/net.py", "run_out.py", "keep_out.py", "src/net.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(BUGGY)
    found = shapelint("check", "-q", ".", cwd=tmp_path).stdout
    assert sorted(line.split(":")[0] for line in found.splitlines()) == ["keep_out.py", "src/net.py"]
    everything = shapelint("check", "-q", "--no-respect-gitignore", ".", cwd=tmp_path).stdout
    assert len(everything.splitlines()) == 4
    (tmp_path / "pyproject.toml").write_text("[tool.shapelint]\nrespect-gitignore = false\n")
    assert len(shapelint("check", "-q", ".", cwd=tmp_path).stdout.splitlines()) == 4
    (tmp_path / "pyproject.toml").unlink()
    # a file named explicitly is linted (like ruff), unless --force-exclude
    assert shapelint("check", "run_out.py", cwd=tmp_path).returncode == 1
    assert shapelint("check", "--force-exclude", "run_out.py", cwd=tmp_path).returncode == 0


def test_force_exclude_applies_exclude_to_explicit_paths(tmp_path):
    (tmp_path / "third_party").mkdir()
    (tmp_path / "third_party" / "bad.py").write_text(BUGGY)
    (tmp_path / "pyproject.toml").write_text('[tool.shapelint]\nexclude = ["third_party/*"]\n')
    assert shapelint("check", cwd=tmp_path).returncode == 0
    assert shapelint("check", "third_party/bad.py", cwd=tmp_path).returncode == 1
    result = shapelint("check", "--force-exclude", "third_party/bad.py", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == ""
    (tmp_path / "pyproject.toml").write_text('[tool.shapelint]\nexclude = ["third_party/*"]\nforce-exclude = true\n')
    assert shapelint("check", "third_party/bad.py", cwd=tmp_path).returncode == 0


def test_standard_input(tmp_path):
    (tmp_path / "models").mkdir()
    result = shapelint("check", "-", "--stdin-filename", "models/bad.py", cwd=tmp_path, stdin=BUGGY)
    assert result.returncode == 1
    assert result.stdout == f"models/{SL101_LINE}\n"
    full = shapelint("check", "--output-format", "full", "-", cwd=tmp_path, stdin=BUGGY)
    assert " --> -:6:5" in full.stdout and "6 |     nn.Conv2d(32, 8, 3)," in full.stdout
    assert shapelint("check", "-", cwd=tmp_path, stdin=BUGGY.replace("(32, 8", "(16, 8")).returncode == 0
    # the file's configuration applies, exclude too with --force-exclude
    (tmp_path / "pyproject.toml").write_text('[tool.shapelint]\nexclude = ["models/*"]\nignore = ["SL2"]\n')
    skipped = shapelint("check", "--force-exclude", "-", "--stdin-filename", "models/bad.py", cwd=tmp_path,
                        stdin=BUGGY)
    assert skipped.returncode == 0 and skipped.stdout == ""
    notebook = json.dumps({"cells": [{"cell_type": "code", "source": BUGGY}], "metadata": {}, "nbformat": 4,
                           "nbformat_minor": 5})
    result = shapelint("check", "-", "--stdin-filename", "nb.ipynb", cwd=tmp_path, stdin=notebook)
    assert result.stdout.startswith("nb.ipynb:cell 1:6:5: SL101"), result.stdout + result.stderr
    assert shapelint("check", "-", "x.py", cwd=tmp_path, stdin="").returncode == 2
