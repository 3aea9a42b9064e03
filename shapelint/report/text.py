"""Text for people: ``concise`` (one line per finding, ``path:line:col: CODE message``) and ``full``
(the same finding with its severity, the source line and a caret under the span, like ruff's
default output), plus the ``--statistics`` table.  Colour only when the caller asks for it."""

from __future__ import annotations

import os
from collections import Counter

from shapelint.report.sarif import relative_path

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
STYLES = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "info": "\x1b[1;36m"}
DIM = "\x1b[34m"  # the gutter, as ruff draws it
CONTEXT_LINES = 1
TAB = "    "


def use_colour(stream_is_terminal: bool, environ=os.environ) -> bool:
    """NO_COLOR (https://no-color.org) wins; FORCE_COLOR colours even a pipe; else only a terminal."""
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    return stream_is_terminal and environ.get("TERM") != "dumb"


def display_path(path: str) -> str:
    """Relative to the current directory when the file is under it (``./a.py`` reads ``a.py``)."""
    return relative_path(path) if path not in ("-", "") else path


def _paint(text: str, style: str, colour: bool) -> str:
    return f"{style}{text}{RESET}" if colour and style else text


def _location(d) -> str:
    where = f"{display_path(d.path)}:cell {d.cell}:" if d.cell is not None else f"{display_path(d.path)}:"
    return f"{where}{d.line}:{d.column}"


def _runtime_note(d) -> str:
    if d.confirmed is True:
        by = getattr(d, "runtime_framework", None) or "runtime"  # set by --confirm
        return f" [confirmed by {by}: {d.runtime}]" if d.runtime else f" [confirmed by {by}]"
    if d.confirmed is False:
        return " [not reproduced at runtime]"
    if d.runtime:
        return f" [not run: {d.runtime}]"
    return ""


def _concise_line(d, colour: bool) -> str:
    # Errors carry no marker (the documented one-line contract); warnings and infos say what they are.
    marker = "" if d.severity == "error" else " " + _paint(f"[{d.severity}]", STYLES.get(d.severity, ""), colour)
    code = _paint(d.code, STYLES.get(d.severity, ""), colour)
    return f"{_paint(_location(d), BOLD, colour)}: {code}{marker} {d.message}{_runtime_note(d)}"


def render(diagnostics, colour: bool = False) -> str:
    """The concise form: ``path:line:col: CODE message``, one line per finding."""
    lines = [_concise_line(d, colour) for d in diagnostics]
    return "\n".join(lines) + ("\n" if lines else "")


render_concise = render


class SourceLines:
    """The lines of the files findings point into, read once per file (and per notebook cell)."""

    def __init__(self, texts: dict | None = None):
        self.texts = dict(texts or {})  # path -> text already in memory (standard input)
        self._cache: dict = {}

    def lines(self, path: str, cell: int | None) -> list[str]:
        key = (path, cell)
        if key not in self._cache:
            self._cache[key] = self._read(path, cell)
        return self._cache[key]

    def _read(self, path: str, cell: int | None) -> list[str]:
        text = self.texts.get(path)
        try:
            if text is None:
                with open(path, "rb") as handle:
                    data = handle.read()
            else:
                data = text.encode("utf-8", "surrogatepass")
            if cell is not None:
                from shapelint.notebook import read_cells

                cells = {c.number: c.text for c in read_cells(data)}
                return cells.get(cell, "").splitlines()
            return data.decode("utf-8", "replace").splitlines()
        except (OSError, ValueError):
            return []


MAX_SHOWN_COLUMNS = 240  # a longer line (minified or generated code) is cut, with an ellipsis


def _width(text: str) -> int:
    return len(text.replace("\t", TAB))


def _printable(text: str) -> str:
    """What a terminal can show: control characters (a binary file's bytes) become U+FFFD."""
    shown = "".join(c if c.isprintable() or c == "\t" else "\ufffd" for c in text).replace("\t", TAB)
    return shown if len(shown) <= MAX_SHOWN_COLUMNS else shown[:MAX_SHOWN_COLUMNS] + "…"


def _snippet(d, lines: list[str], colour: bool) -> list[str]:
    if not 0 < d.line <= len(lines):
        return []
    first = max(1, d.line - CONTEXT_LINES)
    last = min(len(lines), d.line + CONTEXT_LINES)
    gutter = len(str(last))
    bar = _paint("|", DIM, colour)
    out = [f"{' ' * gutter} {bar}"]
    style = STYLES.get(d.severity, "")
    for number in range(first, last + 1):
        text = _printable(lines[number - 1])
        out.append(f"{_paint(str(number).rjust(gutter), DIM, colour)} {bar} {text}".rstrip())
        if number == d.line:
            source = lines[number - 1]
            start = min(_width(source[:max(0, d.column - 1)]), MAX_SHOWN_COLUMNS)
            end_column = d.end_column if d.end_line == d.line else len(source.rstrip()) + 1
            width = max(1, min(_width(source[:max(0, end_column - 1)]), MAX_SHOWN_COLUMNS + 1) - start)
            carets = _paint("^" * width, style, colour)
            out.append(f"{' ' * gutter} {bar} {' ' * start}{carets} {_paint(d.code, style, colour)}")
    out.append(f"{' ' * gutter} {bar}")
    return out


def render_full(diagnostics, colour: bool = False, sources: SourceLines | None = None) -> str:
    """Per finding: ``error[SL101]: message``, `` --> path:line:col``, the source with a caret."""
    sources = sources or SourceLines()
    blocks = []
    for d in diagnostics:
        style = STYLES.get(d.severity, "")
        head = f"{_paint(d.severity, style, colour)}{_paint(f'[{d.code}]', style, colour)}: " \
               f"{_paint(d.message + _runtime_note(d), BOLD, colour)}"
        arrow = _paint("-->", DIM, colour)
        block = [head, f" {arrow} {_location(d)}"]
        block.extend(_snippet(d, sources.lines(d.path, d.cell), colour))
        blocks.append("\n".join(block) + "\n")
    return "\n".join(blocks)


def statistics(diagnostics) -> list[dict]:
    from shapelint.rules import RULES

    counts = Counter(d.code for d in diagnostics)
    rows = []
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        rule = RULES.get(code)
        rows.append({"code": code, "name": rule.name if rule else "", "count": count,
                     "severity": rule.severity if rule else "error"})
    return rows


def render_statistics(diagnostics, colour: bool = False) -> str:
    """One line per rule with findings, most frequent first: ``count  code  [severity] name``."""
    rows = statistics(diagnostics)
    if not rows:
        return ""
    count_width = max(len(str(r["count"])) for r in rows)
    lines = []
    for r in rows:
        style = STYLES.get(r["severity"], "")
        lines.append(f"{str(r['count']).rjust(count_width)}\t{_paint(r['code'], style, colour)}\t"
                     f"[{r['severity']}] {r['name']}")
    return "\n".join(lines) + "\n"
