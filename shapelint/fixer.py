"""Applying fixes: one at a time, each proved by linting the fixed text again, until none applies.

A fix is kept only when the fixed file still parses and no longer has the finding it repairs
(the same code at the same, possibly moved, place).  After each kept fix the file is linted
afresh, so the next fix is made from the facts of the repaired program; a bounded number of
passes, as ruff does.  Nothing here writes files: the command line does, and only for ``--fix``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from shapelint.api import Diagnostic, Settings, lint_source
from shapelint.fix import SAFE, Fix, apply_edits

MAX_PASSES = 100


@dataclass
class FixResult:
    source: str  # the text with every applied fix
    applied: list = field(default_factory=list)  # the Diagnostics whose fixes were applied, in order
    remaining: list = field(default_factory=list)  # the Diagnostics of the fixed text

    def changed(self, original: str) -> bool:
        return self.source != original


def allowed(fix: Fix | None, unsafe: bool) -> bool:
    return fix is not None and (fix.applicability == SAFE or unsafe)


def fix_source(source: str, path: str = "<stdin>", settings: Settings | None = None,
               unsafe: bool = False) -> FixResult:
    """The source with every fix that proves itself applied."""
    settings = settings or Settings()
    current = source
    diagnostics = lint_source(current, path, settings).diagnostics
    applied, rejected = [], set()
    for _ in range(MAX_PASSES):
        for diag in diagnostics:
            key = (diag.code, diag.message, diag.fix)
            if not allowed(diag.fix, unsafe) or key in rejected:
                continue
            fixed = apply_edits(current, diag.fix.edits)
            after = lint_source(fixed, path, settings).diagnostics if fixed is not None else None
            if after is not None and _repaired(diag, after):
                current, diagnostics = fixed, after
                applied.append(diag)
                break
            rejected.add(key)
        else:
            break
    return FixResult(current, applied, diagnostics)


def proves(source: str, path: str, settings: Settings, diag: Diagnostic) -> bool:
    """The fix of ``diag`` (a finding in ``source``) repairs it: the test ``--fix`` applies."""
    if diag.fix is None:
        return False
    fixed = apply_edits(source, diag.fix.edits)
    return fixed is not None and _repaired(diag, lint_source(fixed, path, settings).diagnostics)


def _repaired(diag: Diagnostic, after: list) -> bool:
    """The fixed text parses and no longer has the finding at the place it moved to."""
    if any(d.code == "SL000" for d in after):
        return False
    line = moved_line(diag.line, diag.fix.edits)
    added = sum(edit.content.count("\n") for edit in diag.fix.edits)
    return not any(d.code == diag.code and line <= d.line <= line + added for d in after)


def moved_line(line: int, edits) -> int:
    """Where ``line`` is after the edits (lines added or removed above it shift it)."""
    shift = 0
    for edit in edits:
        if edit.end_line < line or (edit.line < line and edit.end_line == line):
            shift += edit.content.count("\n") - (edit.end_line - edit.line)
    return line + shift


def fix_files(files: list, per_files: list, settings: Settings, unsafe: bool, write: bool) -> tuple:
    """(diagnostics per file after fixing, how many findings were fixed, the diffs) for the files
    whose diagnostics carry a fix that may apply; the files are rewritten only when ``write``.
    Notebooks and files that are not UTF-8 are left as they are."""
    out, fixed, diffs = [], 0, []
    for path, diagnostics in zip(files, per_files):
        if path.endswith(".py") and any(allowed(d.fix, unsafe) for d in diagnostics):
            try:
                with open(path, "rb") as handle:
                    original = handle.read().decode("utf-8")
            except (OSError, UnicodeDecodeError):
                out.append(diagnostics)
                continue
            result = fix_source(original, path, settings, unsafe)
            if result.changed(original):
                fixed += len(result.applied)
                diffs.append(unified_diff(path, original, result.source))
                if write:
                    with open(path, "wb") as handle:
                        handle.write(result.source.encode("utf-8"))
                diagnostics = result.remaining
        out.append(diagnostics)
    return out, fixed, diffs


def fixable_hint(diagnostics: list, unsafe: bool) -> str:
    """The line that tells how many findings ``--fix`` could repair."""
    safe = sum(1 for d in diagnostics if allowed(d.fix, unsafe))
    hidden = sum(1 for d in diagnostics if d.fix is not None and not allowed(d.fix, unsafe))
    parts = []
    if safe:
        parts.append(f"{safe} fixable with the --fix option.")
    if hidden:
        parts.append(f"{hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with the --unsafe-fixes option.")
    return " ".join(parts) if parts else ""


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=f"a/{path}", tofile=f"b/{path}"))


__all__ = ["FixResult", "fix_source", "proves", "fix_files", "fixable_hint", "unified_diff", "allowed", "moved_line", "MAX_PASSES"]
