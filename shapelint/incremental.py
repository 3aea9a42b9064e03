"""Successive versions of one file's text to LibCST modules, re-parsing only the top-level
statements whose text changed.

An editor sends the whole text after every keystroke, but a keystroke changes one statement.
``IncrementalParser.parse`` splits the text into chunks of top-level statements with
``ast.parse`` (about a tenth of LibCST's parse time), reuses the LibCST statements of every chunk
whose exact text (leading comments and blank lines included) it has seen before, parses only the
others, and assembles a module equal to what ``parse_source`` returns for the whole text: the same
nodes (``deep_equals``), the same ``.code``, the same positions.  Whenever that equality is not
certain it parses the whole text instead.

Why a chunk parsed on its own gives the nodes the whole parse gives:

- A chunk starts at the beginning of a line, at column 0, with the tokenizer at top level: no
  open bracket, string or backslash continuation, and nothing indented.  A boundary is used only
  where the previous statement's last line does not end in a backslash and every line between the
  two statements is empty or a comment starting at column 0.  LibCST gives such lines to the
  next statement's ``leading_lines`` (a block's footer only takes lines indented at the block's
  level), and so it does when the chunk follows a throwaway ``if`` block (below).  The first
  chunk is parsed as it stands: its leading comments are the module's header.
- LibCST writes ``None`` for an indent or a newline equal to the module's default (the first
  INDENT token's indent, the first newline of the text).  Every chunk but the first is parsed
  after a throwaway ``if 1:`` block written with the file's defaults, so that they are the
  chunk's defaults too; a chunk is reused only while the defaults it was made under still hold.
- With LibCST's native parser the grammar does not depend on ``from __future__`` imports; the two
  that changed the grammar of its old pure-Python parser (``print_function``, ``barry_as_FLUFL``)
  make us parse the whole text anyway.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

import libcst as cst

from shapelint.parse import ParseFailure, Positions, parse_source, position_table, python_ast

FALLBACK_INDENT = "    "  # LibCST's default indent when a text has no indented block
NEWLINE = re.compile(r"\r\n?|\n")
INDENTED_CODE = re.compile(r"^[ \t]+[^ \t\r\n#]", re.MULTILINE)
GRAMMAR_FUTURES = re.compile(r"\b(?:print_function|barry_as_FLUFL)\b")
_DOUBTFUL = object()  # what _first_indent answers for a text it cannot tokenize


@dataclass(eq=False)
class Chunk:
    """Consecutive top-level statements and the exact text they were parsed from."""

    text: str
    first: bool  # starts the file: its leading comments are the module header, not leading_lines
    statements: tuple
    defaults: tuple  # (default indent, default newline) its nodes were made under
    indent: str | None  # its first INDENT token's indent; None when it has no indented block
    header: tuple = ()
    footer: tuple = ()
    has_trailing_newline: bool = True
    _positions: tuple | None = field(default=None, repr=False)

    def fits(self, defaults: tuple) -> bool:
        """Whether its nodes are what a parse under the file's defaults makes: an indent equal to
        the default is stored as None, so only a chunk without indented blocks ignores it."""
        return self.defaults[1] == defaults[1] and (self.indent is None or self.defaults[0] == defaults[0])

    def positions(self, default_indent: str, default_newline: str) -> tuple:
        """(node -> CodeRange with lines counted from the chunk's first line, lines generated);
        computed once.  Lines are counted in the generated code, as ``PositionProvider`` does, which
        differs from the text in the odd case LibCST does not reproduce (a backslash in an indent)."""
        if self._positions is None:
            nodes = (*self.header, *self.statements, *self.footer)
            table, end = position_table(nodes, default_indent, default_newline)
            self._positions = table, end.line - 1
        return self._positions


@dataclass
class Layout:
    """The chunks a module was assembled from, in order: what ``Positions`` needs to place them."""

    chunks: list


class IncrementalParser:
    """Parses successive versions of one document; keeps the chunks of the last module it built."""

    def __init__(self):
        self._chunks: dict = {}  # (first, text) -> Chunk
        self.reused = 0  # chunks taken from the previous version in the last parse
        self.parsed = 0  # chunks parsed in the last parse (0 after a whole-text parse)
        self.whole = False  # whether the last parse parsed the whole text

    def parse(self, text: str) -> cst.Module | ParseFailure:
        return self.parse_with_positions(text)[0]

    def parse_with_positions(self, text: str) -> tuple:
        """(module or ParseFailure, Positions or None)."""
        self.reused = self.parsed = 0
        spans = _chunk_spans(text)
        if spans is not None and self._chunks:
            built = self._assemble(text, spans)
            if built is not None:
                module, layout = built
                self.whole = False
                return module, Positions(module, layout)
        self.whole = True
        module = parse_source(text)
        if isinstance(module, ParseFailure):
            return module, None  # keep the chunks of the last good version: the next fix reuses them
        layout = self._harvest(text, module, spans) if spans is not None else None
        if layout is None:
            self._chunks = {}
        return module, Positions(module, layout)

    def _assemble(self, text: str, spans: list) -> tuple | None:
        texts = [text[start:end] for start, end, _ in spans]
        known, used = [], set()
        for index, chunk_text in enumerate(texts):
            chunk = self._chunks.get((index == 0, chunk_text))
            if chunk is not None and id(chunk) in used:
                chunk = None  # a repeated text needs nodes of its own
            used.add(id(chunk))
            known.append(chunk)
        indents = [chunk.indent if chunk is not None else _first_indent(chunk_text)
                   for chunk, chunk_text in zip(known, texts)]
        if any(indent is _DOUBTFUL for indent in indents):
            return None
        newline = NEWLINE.search(text)
        defaults = (next((i for i in indents if i is not None), FALLBACK_INDENT),
                    newline.group() if newline else "\n")
        chunks = []
        for index, (chunk, chunk_text, indent, (_, _, count)) in enumerate(zip(known, texts, indents, spans)):
            if chunk is not None and chunk.fits(defaults):
                self.reused += 1
            else:
                chunk = _parse_chunk(chunk_text, index == 0, count, indent, defaults)
                if chunk is None:
                    return None
                self.parsed += 1
            if len(chunk.statements) != count:
                return None
            if index < len(spans) - 1 and (chunk.footer or not chunk.has_trailing_newline):
                return None  # only the last chunk may end the file
            chunks.append(chunk)
        last = chunks[-1]
        module = cst.Module(body=tuple(stmt for chunk in chunks for stmt in chunk.statements),
                            header=chunks[0].header, footer=last.footer, encoding="utf-8",
                            default_indent=defaults[0], default_newline=defaults[1],
                            has_trailing_newline=last.has_trailing_newline)
        self._chunks = {(chunk.first, chunk.text): chunk for chunk in chunks}
        return module, Layout(chunks)

    def _harvest(self, text: str, module: cst.Module, spans: list) -> Layout | None:
        """Cuts a whole-text parse into chunks, so that the next version can reuse them."""
        if sum(count for _, _, count in spans) != len(module.body):
            return None
        defaults = (module.default_indent, module.default_newline)
        chunks, taken = [], 0
        for index, (start, end, count) in enumerate(spans):
            first, last = index == 0, index == len(spans) - 1
            chunk_text = text[start:end]
            indent = _first_indent(chunk_text)
            if indent is _DOUBTFUL:
                return None
            chunks.append(Chunk(chunk_text, first, module.body[taken:taken + count], defaults, indent,
                                header=module.header if first else (), footer=module.footer if last else (),
                                has_trailing_newline=module.has_trailing_newline if last else True))
            taken += count
        # The file's first indented block sets its default indent: tokenize must have found it too.
        if next((chunk.indent for chunk in chunks if chunk.indent is not None), FALLBACK_INDENT) != defaults[0]:
            return None
        self._chunks = {(chunk.first, chunk.text): chunk for chunk in chunks}
        return Layout(chunks)


def _parse_chunk(text: str, first: bool, count: int, indent: str | None, defaults: tuple) -> Chunk | None:
    """Parses a chunk so that its nodes are the file's: after a throwaway `if` block that gives it
    the file's default indent and newline (LibCST takes the first of each), unless it starts the
    file, whose defaults it sets itself."""
    default_indent, default_newline = defaults
    prefix = "" if first else f"if 1:{default_newline}{default_indent}pass{default_newline}"
    try:
        parsed = cst.parse_module(prefix + text)
    except Exception:  # noqa: BLE001 - a syntax error, or anything odd: the whole text decides
        return None
    statements = parsed.body[0 if first else 1:]
    made = (parsed.default_indent, parsed.default_newline)
    if len(statements) != count or not statements or (not first and parsed.header):
        return None
    if not first and made != defaults:
        return None
    if first and (made[1] != default_newline or (indent is not None and made[0] != default_indent)):
        return None
    return Chunk(text, first, tuple(statements), made, indent, header=parsed.header, footer=parsed.footer,
                 has_trailing_newline=parsed.has_trailing_newline)


def _first_indent(text: str):
    """The indent of the text's first INDENT token; None without one; _DOUBTFUL when it does not
    tokenize."""
    if not INDENTED_CODE.search(text):
        return None  # no line starts with whitespace then code: no INDENT token
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.INDENT:
                return token.string
    except (tokenize.TokenError, SyntaxError):
        return _DOUBTFUL
    return None


def _chunk_spans(text: str) -> list | None:
    """[(start offset, end offset, number of LibCST top-level statements)] covering the text, or
    None when the text is better parsed whole (syntax error, unusual newlines, BOM, ...)."""
    if not text or text.startswith("\ufeff") or "\f" in text or "\x00" in text:
        return None
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return None  # a lone carriage return: ast and LibCST would count lines differently
    if "__future__" in text and GRAMMAR_FUTURES.search(text):
        return None
    try:
        tree = python_ast(text)  # nesting capped as for a whole parse: every chunk is safe for LibCST
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    units = []  # (first line, last line) of each LibCST top-level statement, 1-based
    for stmt in tree.body:
        start = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))])
        if units and start <= units[-1][1]:  # `a = 1; b = 2` is one SimpleStatementLine
            units[-1] = (units[-1][0], max(units[-1][1], stmt.end_lineno))
        else:
            units.append((start, stmt.end_lineno))
    if not units:
        return None
    line_starts = [0]
    line_starts.extend(match.end() for match in re.finditer("\n", text))

    def line(number: int) -> str:
        return text[line_starts[number - 1]:line_starts[number] if number < len(line_starts) else len(text)]

    spans, start, count = [], 0, 0
    for (_, end), (next_start, _) in zip(units, units[1:]):
        count += 1
        if end >= len(line_starts) or line(end).rstrip("\r\n").endswith("\\"):
            continue
        between = (line(number) for number in range(end + 1, next_start))
        if not all(gap[:1] == "#" or gap in ("\n", "\r\n") for gap in between):
            continue
        if line(next_start)[:1] in (" ", "\t"):
            continue
        cut = line_starts[end]
        spans.append((start, cut, count))
        start, count = cut, 0
    spans.append((start, len(text), count + 1))
    return spans
