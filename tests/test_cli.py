"""The command-line contract: formats, exit codes, selection, suppression, bad input."""

import json
import os
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
CLEAN = BUGGY.replace("nn.Conv2d(32, 8, 3)", "nn.Conv2d(16, 8, 3)")


def run(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "shapelint", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=120)


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "bad.py").write_text(BUGGY)
    (tmp_path / "good.py").write_text(CLEAN)
    return tmp_path


def test_text_format_and_exit_code(tree):
    result = run("check", str(tree / "bad.py"))
    assert result.returncode == 1
    assert result.stdout == (f"{tree / 'bad.py'}:6:5: SL101 Conv2d expects 32 input channels but receives 16 "
                             "(from Conv2d at line 5; input [1, 16, 30, 30])\n")


def test_clean_file_exits_zero(tree):
    result = run("check", str(tree / "good.py"))
    assert result.returncode == 0, result.stdout
    assert result.stdout == ""


def test_json_format(tree):
    result = run("check", "--format", "json", str(tree))
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data == [{"path": str(tree / "bad.py"), "line": 6, "column": 5, "end_line": 6, "end_column": 24,
                     "code": "SL101", "severity": "error", "message": data[0]["message"], "confirmed": None,
                     "fix": {"applicability": "unsafe", "message": "Set in_channels to 16, the channels Conv2d receives",
                             "edits": [{"line": 6, "column": 15, "end_line": 6, "end_column": 17, "content": "16"}]}}]
    assert "expects 32 input channels but receives 16" in data[0]["message"]


def test_github_format(tree):
    result = run("check", "--format", "github", str(tree / "bad.py"))
    line = result.stdout.strip()
    assert line.startswith("::error title=shapelint (SL101),file=")
    assert ",line=6,col=5,endLine=6,endColumn=24::SL101 Conv2d expects 32" in line


def test_exit_zero_select_ignore(tree):
    assert run("check", "--exit-zero", str(tree)).returncode == 0
    assert run("check", "--ignore", "SL101", str(tree)).stdout == ""
    assert run("check", "--ignore", "SL1", str(tree)).returncode == 0
    assert run("check", "--select", "SL2", str(tree)).stdout == ""
    assert "SL101" in run("check", "--select", "SL1", str(tree)).stdout


def test_noqa_and_ignore_comments(tmp_path):
    for comment in ("# noqa: SL101", "# noqa", "# shapelint: ignore[SL101]"):
        path = tmp_path / "m.py"
        path.write_text(BUGGY.replace("nn.Conv2d(32, 8, 3),", f"nn.Conv2d(32, 8, 3),  {comment}"))
        result = run("check", str(path))
        assert result.returncode == 0 and result.stdout == "", comment
    path.write_text(BUGGY.replace("nn.Conv2d(32, 8, 3),", "nn.Conv2d(32, 8, 3),  # noqa: SL102"))
    assert "SL101" in run("check", str(path)).stdout
    path.write_text("# shapelint: noqa\n" + BUGGY)
    assert run("check", str(path)).stdout == ""


def test_input_shape_option_drives_the_analysis(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(textwrap.dedent("""\
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 7)

            def forward(self, x):
                return self.conv(x)
    """))
    assert run("check", str(path)).returncode == 0
    result = run("check", "--input-shape", "Net=1,3,5,5", str(path))
    assert result.returncode == 1 and "SL201" in result.stdout
    result = run("check", "--input-shape", "Net=1x3x5x5", str(path))
    assert "SL201" in result.stdout
    bad = run("check", "--input-shape", "Net=one,two", str(path))
    assert bad.returncode == 2


def test_config_in_pyproject(tree):
    (tree / "pyproject.toml").write_text('[tool.shapelint]\nignore = ["SL101"]\n')
    assert run("check", str(tree)).returncode == 0
    (tree / "pyproject.toml").write_text('[tool.shapelint]\nper-file-ignores = {"bad.py" = ["SL1"]}\n')
    assert run("check", str(tree)).returncode == 0
    (tree / "pyproject.toml").write_text('[tool.shapelint]\nexclude = ["bad.py"]\n')
    assert run("check", str(tree)).returncode == 0
    (tree / "pyproject.toml").write_text('[tool.shapelint]\nselcet = ["SL1"]\n')
    result = run("check", str(tree))
    assert result.returncode == 2 and "selcet" in result.stderr
    (tree / "pyproject.toml").write_text('[tool.shapelint]\ninputs = {"bad.py:model" = [1, 3, 32, 32]}\n')
    assert "SL101" in run("check", str(tree)).stdout


def test_bad_input_gives_sl000_and_the_run_goes_on(tmp_path):
    (tmp_path / "a_syntax.py").write_text("import torch\ndef broken(:\n    pass\n")
    (tmp_path / "b_binary.py").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "c_latin1.py").write_bytes("import torch\nname = 'caf\xe9'\n".encode("latin-1"))
    (tmp_path / "d_bad.py").write_text(BUGGY)
    (tmp_path / "e_nontorch_syntax.py").write_text("x = (\n")
    result = run("check", "--format", "json", str(tmp_path))
    assert result.returncode == 1
    found = {(Path(d["path"]).name, d["code"], d["line"]) for d in json.loads(result.stdout)}
    assert ("a_syntax.py", "SL000", 2) in found
    assert ("b_binary.py", "SL000", 1) in found
    assert ("c_latin1.py", "SL000", 2) in found
    assert ("d_bad.py", "SL101", 6) in found
    assert any(name == "e_nontorch_syntax.py" and code == "SL000" for name, code, _ in found)


def test_missing_path_is_a_usage_error(tmp_path):
    result = run("check", str(tmp_path / "nope.py"))
    assert result.returncode == 2
    assert "no such file" in result.stderr


def test_many_files_complete(tmp_path):
    for i in range(300):
        (tmp_path / f"m{i}.py").write_text(CLEAN if i % 3 else "x = 1\n")
    (tmp_path / "m7.py").write_text(BUGGY)
    result = run("check", "--format", "json", str(tmp_path))
    data = json.loads(result.stdout)
    assert [Path(d["path"]).name for d in data] == ["m7.py"]


def test_shapes_json_contract(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(CLEAN)
    result = run("shapes", "--format", "json", str(path))
    assert result.returncode == 0, result.stderr
    (model,) = json.loads(result.stdout)
    assert model["framework"] == "torch" and model["input"] is None or isinstance(model["input"], list)
    layers = [(layer["line"], layer["op"], layer["output_shape"]) for layer in model["layers"]]
    assert layers == [(5, "Conv2d", [1, 16, 30, 30]), (6, "Conv2d", [1, 8, 28, 28])]


def test_rules_listing():
    result = run("rules")
    assert result.returncode == 0
    assert "SL101" in result.stdout and "SL203" in result.stdout and "off by default" in result.stdout


def test_check_never_imports_a_framework(tree):
    code = ("import sys; from shapelint.cli import cli\n"
            "try:\n    cli.main(['check', sys.argv[1]], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'tensorflow', 'keras', 'jax'))\n"
            "print('HEAVY', heavy)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", code, str(tree)], capture_output=True, text=True, env=env)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr
    assert "SL101" in result.stdout


def test_notebook_cells_magics_and_broken_cells(tmp_path):
    cells = [
        {"cell_type": "markdown", "source": ["# A model"]},
        {"cell_type": "code", "source": ["%matplotlib inline\n", "import torch\n", "import torch.nn as nn\n",
                                         "!pip list\n"]},
        {"cell_type": "code", "source": ["def broken(:\n", "    pass\n"]},
        {"cell_type": "code", "source": ["model = nn.Sequential(\n", "    nn.Conv2d(3, 16, 3),\n",
                                         "    nn.Conv2d(32, 8, 3),\n", ")\n",
                                         "y = model(torch.randn(1, 3, 32, 32))\n"]},
    ]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    text = run("check", str(path)).stdout.splitlines()
    assert text[0] == f"{path}:cell 2:1:12: SL000 syntax error: invalid syntax"
    assert text[1].startswith(f"{path}:cell 3:3:5: SL101 Conv2d expects 32 input channels but receives 16 "
                              "(from Conv2d at cell 3, line 2;")
    data = json.loads(run("check", "--format", "json", str(path)).stdout)
    assert [(d["cell"], d["line"], d["code"]) for d in data] == [(2, 1, "SL000"), (3, 3, "SL101")]
    (tmp_path / "junk.ipynb").write_text("{not json")
    assert "SL000" in run("check", str(tmp_path / "junk.ipynb")).stdout


def test_jobs_keep_output_order_and_cache_follows_content(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(40):
        (tree / f"m{i:02d}.py").write_text(BUGGY if i % 5 == 0 else CLEAN)
    serial = run("check", "--no-cache", "-j", "1", str(tree))
    parallel = run("check", "--no-cache", "-j", "2", str(tree))
    assert serial.stdout == parallel.stdout and serial.stdout.count("SL101") == 8
    cache = str(tmp_path / "cache")
    cold = run("check", "--cache-dir", cache, str(tree))
    warm = run("check", "--cache-dir", cache, str(tree))
    assert cold.stdout == warm.stdout == serial.stdout
    assert any((tmp_path / "cache").rglob("*.json"))
    (tree / "m00.py").write_text(CLEAN)  # a changed file is analysed again
    assert run("check", "--cache-dir", cache, str(tree)).stdout.count("SL101") == 7
    # settings are part of the key: ignoring the rule must not be answered from the cache
    assert run("check", "--cache-dir", cache, "--ignore", "SL101", str(tree)).stdout == ""
