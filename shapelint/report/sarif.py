"""SARIF 2.1.0, the format GitHub code scanning uploads: one run, every rule in the driver."""

from __future__ import annotations

import json
import os
import re
from pathlib import PurePosixPath
from urllib.parse import quote

from shapelint import __version__

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
# GitHub code scanning truncates rule descriptions beyond this length; cut at a word instead.
MAX_DESCRIPTION = 1024


def relative_path(path: str) -> str:
    """The path relative to the working directory, with forward slashes (as CI tools want it);
    paths outside the working directory stay absolute."""
    if os.path.isabs(path):
        try:
            relative = os.path.relpath(path)
        except ValueError:  # another drive on Windows
            relative = path
        if not relative.startswith(".."):
            path = relative
    posix = path.replace("\\", "/")
    return str(PurePosixPath(posix)) if posix else posix


def _artifact_uri(path: str) -> str:
    posix = relative_path(path)
    if posix.startswith("/") or re.match(r"^[A-Za-z]:/", posix):
        return "file://" + ("" if posix.startswith("/") else "/") + quote(posix)
    return quote(posix)


def doc_section(doc: str, heading: str) -> str:
    """The text under ``## heading`` up to the next ``## ``, blank lines at the ends removed."""
    match = re.search(rf"^## {re.escape(heading)}[ \t]*\n(.*?)(?=^## |\Z)", doc, re.MULTILINE | re.DOTALL)
    return match.group(1).strip() if match else ""


def _rule_descriptor(code: str, rule) -> dict:
    from shapelint.catalogue import rule_doc

    try:
        doc = rule_doc(code) or ""
    except FileNotFoundError:
        doc = ""
    what = doc_section(doc, "What it does") or rule.summary
    if len(what) > MAX_DESCRIPTION:
        what = what[:MAX_DESCRIPTION - 1].rsplit(" ", 1)[0] + "…"
    return {
        "id": code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": what},
        "help": {"text": doc or rule.summary, "markdown": doc or rule.summary},
        "defaultConfiguration": {"level": LEVELS.get(rule.severity, "error"), "enabled": bool(rule.default)},
    }


def _result(d, rule_index: dict) -> dict:
    result = {
        "ruleId": d.code,
        "level": LEVELS.get(d.severity, "error"),
        "message": {"text": d.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": _artifact_uri(d.path)},
            "region": {"startLine": d.line, "startColumn": d.column,
                       "endLine": max(d.end_line, d.line), "endColumn": max(d.end_column, 1)},
        }}],
    }
    if d.code in rule_index:
        result["ruleIndex"] = rule_index[d.code]
    if d.fix is not None:
        result["fixes"] = [_fix(d)]
    properties = {}
    if d.cell is not None:
        properties["cell"] = d.cell  # in notebooks, lines count from the top of the cell
    if d.confirmed is not None:
        properties["confirmed"] = d.confirmed
    if d.runtime is not None:
        properties["runtime"] = d.runtime
    if properties:
        result["properties"] = properties
    return result


def _fix(d) -> dict:
    """A finding's fix: SARIF regions are 1-based with an exclusive end column, like the edits."""
    replacements = []
    for edit in d.fix.edits:
        replacement = {"deletedRegion": {"startLine": edit.line, "startColumn": edit.column,
                                         "endLine": edit.end_line, "endColumn": edit.end_column}}
        if edit.content:
            replacement["insertedContent"] = {"text": edit.content}
        replacements.append(replacement)
    return {"description": {"text": d.fix.message},
            "artifactChanges": [{"artifactLocation": {"uri": _artifact_uri(d.path)}, "replacements": replacements}],
            "properties": {"applicability": d.fix.applicability}}


def render(diagnostics) -> str:
    from shapelint.rules import RULES

    codes = sorted(RULES)
    rule_index = {code: index for index, code in enumerate(codes)}
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "shapelint", "version": __version__, "semanticVersion": __version__,
                                "rules": [_rule_descriptor(code, RULES[code]) for code in codes]}},
            # LibCST columns count code points, not UTF-16 units.
            "columnKind": "unicodeCodePoints",
            "results": [_result(d, rule_index) for d in diagnostics],
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
