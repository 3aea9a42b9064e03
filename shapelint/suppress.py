"""Suppression comments: ``# noqa: SL101`` / ``# shapelint: ignore[SL101]`` on a finding's lines,
which of them suppress nothing (SL002), and ``--add-noqa``, which writes them."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
IGNORE = re.compile(r"#\s*shapelint:\s*ignore\[(?P<codes>[^\]]*)\]")
FILE_NOQA = re.compile(r"^#\s*shapelint:\s*noqa\s*$", re.MULTILINE)
# A finding spread over many lines is suppressed by a comment on any of its first lines.
SUPPRESSION_REACH = 50


def _split(codes: str) -> list[str]:
    return [c for c in re.split(r"[\s,]+", codes.strip().upper()) if c]


def suppressing_line(lines: list[str], diag) -> int | None:
    """The 1-based line whose comment suppresses ``diag``, or None."""
    for number in range(diag.line, min(diag.end_line, diag.line + SUPPRESSION_REACH) + 1):
        if number - 1 >= len(lines):
            break
        text = lines[number - 1]
        if "#" not in text:
            continue
        match = NOQA.search(text)
        if match:
            codes = match.group("codes")
            if codes is None or diag.code in _split(codes):
                return number
        match = IGNORE.search(text)
        if match and (not match.group("codes").strip() or diag.code in _split(match.group("codes"))):
            return number
    return None


@dataclass(frozen=True)
class Directive:
    """One code named by a suppression comment."""

    line: int
    column: int  # 1-based column of the comment's ``#``
    end_column: int
    code: str


def directives(text: str) -> list[Directive]:
    """The codes named in real comments (string contents that look like comments are not)."""
    found = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError, ValueError):
        return found
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        line, column = token.start
        for pattern in (NOQA, IGNORE):
            match = pattern.search(token.string)
            if match and match.group("codes") and match.group("codes").strip():
                for code in _split(match.group("codes")):
                    found.append(Directive(line, column + match.start() + 1, column + match.end() + 1, code))
    return found


def _fully_known(shape) -> bool:
    if not isinstance(shape, tuple):
        return False
    for index, dim in enumerate(shape):
        if isinstance(dim, int):
            continue
        # the symbolic batch size N does not take part in any check that could be suppressed
        if index == 0 and getattr(dim, "op", None) == "sym" and getattr(dim, "name", "") == "N":
            continue
        return False
    return True


def fully_analysed_lines(models, span_of) -> set:
    """Lines every layer application of which had fully known input and output shapes: there,
    each rule ran on known facts, so a finding that did not come was proven absent.  A line with
    no layer at all, or one layer the analysis could not resolve, is not in the set."""
    known: set = set()
    unknown: set = set()
    for model in models:
        for node in model.nodes:
            resolved = (not node.speculative and node.inputs and all(_fully_known(s) for s in node.inputs)
                        and _fully_known(node.output))
            for site in {id(node.def_site): node.def_site, id(node.call_site): node.call_site}.values():
                if site is None:
                    continue
                span = span_of(site)
                for line in range(span.line, span.end_line + 1):
                    (known if resolved else unknown).add(line)
    return known - unknown


def unused(text: str, lines: list[str], findings, models, span_of, reportable) -> list[Directive]:
    """Directives that suppress nothing, on lines the analysis fully resolved.  ``findings`` are
    the diagnostics before suppression; ``reportable(code)``: the code is a rule that is enabled
    for this file (other tools' codes, such as ``E501``, are never reported)."""
    used = set()
    for diag in findings:
        line = suppressing_line(lines, diag)
        if line is not None:
            used.add((line, diag.code))
    candidates = [d for d in directives(text) if (d.line, d.code) not in used and reportable(d.code)]
    if not candidates:
        return []
    resolved = fully_analysed_lines(models, span_of)
    return [d for d in candidates if d.line in resolved]


def _comment_lines(text: str) -> set | None:
    """1-based lines whose end is outside any string and not a backslash continuation: a comment
    can be added there.  None when the text does not tokenize."""
    ends = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT):
                ends.add(token.start[0])
    except (tokenize.TokenError, SyntaxError, IndentationError, ValueError):
        return None
    return ends


def add_noqa(text: str, diagnostics) -> tuple[str, int]:
    """``text`` with ``# noqa: CODE`` added for each diagnostic (on its first line where a comment
    can go), merged into a ``# noqa: ...`` already there; the number of codes added."""
    commentable = _comment_lines(text)
    if commentable is None:
        return text, 0
    lines = text.splitlines(keepends=True)
    wanted: dict = {}
    for diag in diagnostics:
        if diag.code in ("SL000", "SL002"):  # nothing to suppress: a file that does not parse, a stale comment
            continue
        last = min(diag.end_line, diag.line + SUPPRESSION_REACH, len(lines))
        line = next((n for n in range(diag.line, last + 1) if n in commentable), None)
        if line is not None:
            wanted.setdefault(line, [])
            if diag.code not in wanted[line]:
                wanted[line].append(diag.code)
    added = 0
    for number, codes in wanted.items():
        raw = lines[number - 1]
        body = raw.rstrip("\r\n")
        ending = raw[len(body):]
        match = NOQA.search(body)
        if match and match.group("codes") is None:
            continue  # a bare noqa suppresses everything already
        if match:
            present = _split(match.group("codes"))
            new = [c for c in codes if c not in present]
            if not new:
                continue
            body = body[:match.end("codes")] + "".join(f", {c}" for c in new) + body[match.end("codes"):]
        else:
            new = codes
            body = body.rstrip() + f"  # noqa: {', '.join(new)}"
        added += len(new)
        lines[number - 1] = body + ending
    return "".join(lines), added
