"""Applying fixes: one at a time, each proved by linting the fixed text again, until none applies.

A fix is kept only when the fixed file still parses, no longer has the finding it repairs (the
same code at the same, possibly moved, place) and has no finding the file did not have, unless
the fixes of those findings repair them in turn (``attempt``).  After each kept fix the file is linted
afresh, so the next fix is made from the facts of the repaired program; a bounded number of
passes, as ruff does.  Unsafe fixes are kept only when the fixed file has no error finding left.
Nothing here writes files: the command line does, and only for ``--fix``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from shapelint.api import Diagnostic, Settings, lint_source
from shapelint.fix import SAFE, Fix, apply_edits

MAX_PASSES = 100
MAX_CHAIN = 4


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
            proven = attempt(current, diag, diagnostics, path, settings, unsafe)
            if proven is not None:
                current, diagnostics = proven.source, proven.diagnostics
                applied.extend(proven.applied)
                break
            rejected.add(key)
        else:
            break
    if unsafe and any(d.fix.applicability != SAFE for d in applied) \
            and any(d.severity == "error" for d in diagnostics):
        # An unsafe fix picks one meaning of a disagreement.  Error findings that no fix repairs
        # may point at the other meaning (a Linear and a Conv2d that both expect 64 channels say
        # the 65-channel Conv2d before them is the fault), and the program would fail anyway:
        # then only the safe fixes are applied.
        return fix_source(source, path, settings, unsafe=False)
    return FixResult(current, applied, diagnostics)


@dataclass
class Attempt:
    source: str
    diagnostics: list  # of the fixed source
    applied: list  # the fix tried first, then the fixes of what it changed


def attempt(source: str, diag: Diagnostic, before: list, path: str, settings: Settings,
            unsafe: bool) -> Attempt | None:
    """Apply ``diag``'s fix and prove it: the fixed text parses and lacks the finding, and it has no
    finding ``source`` did not have.  A safe fix may reveal findings (the shapes after a padding
    the framework rejects were unknown before); after an unsafe one, each new finding must be
    repaired in turn by its own fix (``view(-1, 500)`` then the ``Linear`` after it), up to
    MAX_CHAIN fixes, or the attempt fails."""
    current, chain, applied, target = source, [], [], diag
    for _ in range(MAX_CHAIN):
        fixed = apply_edits(current, target.fix.edits)
        if fixed is None:
            return None
        after = lint_source(fixed, path, settings).diagnostics
        current, diagnostics = fixed, after
        chain.append(target.fix.edits)
        applied.append(target)
        # every finding repaired so far stays repaired (a fix of a shared weight that breaks
        # its other use, whose fix breaks the first again, goes nowhere)
        if any(code == "SL000" for code in (d.code for d in after)) or not all(
                _gone(done, chain[index:], after) for index, done in enumerate(applied)):
            return None
        new = _new_findings(before, chain, after)
        if not new or diag.fix.applicability == SAFE:
            return Attempt(current, diagnostics, applied)
        target = new[0]
        if not allowed(target.fix, unsafe):
            return None
    return None


def _new_findings(before: list, chain: list, after: list) -> list:
    """The findings of ``after`` that no finding of ``before`` becomes once the edits moved it."""
    seen = set()
    for d in before:
        line = d.line
        for edits in chain:
            line = moved_line(line, edits)
        seen.add((d.code, line))
    return [d for d in after if (d.code, d.line) not in seen]


def proves(source: str, path: str, settings: Settings, diag: Diagnostic, before: list) -> bool:
    """The fix of ``diag`` (a finding in ``source``, among ``before``) proves itself as ``--fix``
    requires."""
    return diag.fix is not None and attempt(source, diag, before, path, settings, unsafe=True) is not None


def _gone(diag: Diagnostic, chain: list, after: list) -> bool:
    """No finding of ``diag``'s code where its line went through the edits of ``chain`` (a fix that
    adds lines above the layer, a ``Flatten()`` entry, moves it down by as many)."""
    line = diag.line
    for edits in chain:
        line = moved_line(line, edits)
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
    """The line that tells what ``--fix`` could repair, in ruff's words."""
    fixable = sum(1 for d in diagnostics if allowed(d.fix, unsafe))
    hidden = sum(1 for d in diagnostics if d.fix is not None and not allowed(d.fix, unsafe))
    note = (f"{hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with the --unsafe-fixes option"
            if hidden else "")
    if fixable:
        return f"[*] {fixable} fixable with the --fix option" + (f" ({note})." if note else ".")
    return f"No fixes available ({note})." if note else ""


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=f"a/{path}", tofile=f"b/{path}"))


__all__ = ["FixResult", "Attempt", "attempt", "fix_source", "proves", "fix_files", "fixable_hint", "unified_diff", "allowed", "moved_line", "MAX_PASSES"]
