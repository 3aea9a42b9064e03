"""Bytes to a LibCST module, the import table, and positions on demand."""

from __future__ import annotations

import ast
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import libcst as cst

from shapelint.ir import Span

# Levels of syntax-tree nesting a file may have before LibCST sees it.  CPython itself refuses
# about 3,000 (and 200 nested brackets); LibCST's native parser overflows its stack on deeper
# input and its time grows with the square of a left-nested chain's length (``1+1+…``,
# ``a.b.c…``, ``f()()…``: 1,000 links take up to 1 s, 2,000 take 4 s).
MAX_NESTING = 1000
FRAMES_PER_LEVEL = 8


@dataclass
class ParseFailure:
    message: str
    line: int = 1
    column: int = 1


def parse_source(source: bytes | str) -> cst.Module | ParseFailure:
    if isinstance(source, bytes):
        if b"\x00" in source:
            return ParseFailure("binary file (contains NUL bytes), not Python source")
        try:
            text = source.decode("utf-8-sig") if not _declares_encoding(source) else None
        except UnicodeDecodeError as error:
            line = source[: error.start].count(b"\n") + 1
            return ParseFailure(f"cannot decode as UTF-8: {error.reason} at byte {error.start}", line, 1)
        if text is None:
            try:
                import io
                import tokenize

                encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
                text = source.decode(encoding)
            except (SyntaxError, LookupError, UnicodeDecodeError) as error:
                return ParseFailure(f"cannot decode source: {error}")
        source = text
    refused = python_rejects(source)
    if refused is not None:
        return refused
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        return _python_syntax_error(source) or ParseFailure(f"syntax error: {error.message}", error.raw_line,
                                                            error.raw_column + 1)
    except (RecursionError, MemoryError):
        return ParseFailure("source too deeply nested to parse")
    except Exception as error:  # noqa: BLE001 - the parser must never take the run down
        return ParseFailure(f"cannot parse: {type(error).__name__}: {error}")


def python_ast(source: bytes | str) -> ast.Module:
    """``ast.parse`` with the nesting capped at ``MAX_NESTING``: raises ``SyntaxError``,
    ``ValueError`` (NUL bytes), ``MemoryError`` (CPython's parser stack) or ``RecursionError``
    (nested deeper than CPython or ``MAX_NESTING`` allows).  SyntaxWarnings are not shown."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not _recursion_limit_caps_ast():
            tree = ast.parse(source)
            if _deeper_than(tree, MAX_NESTING):
                raise RecursionError(f"nested more than {MAX_NESTING} levels deep")
            return tree
        # CPython builds the tree's Python objects down to 3 levels per frame of the recursion
        # limit left: a temporary limit caps the depth at no cost.
        previous = sys.getrecursionlimit()
        sys.setrecursionlimit(_stack_depth() + MAX_NESTING // 3 + 2)
        try:
            return ast.parse(source)
        finally:
            sys.setrecursionlimit(previous)


@contextmanager
def room_for_nesting():
    """A recursion limit that lets LibCST's code generation, visitors and the interpreter walk a
    tree as deep as ``MAX_NESTING`` allows (a few Python frames per level)."""
    previous = sys.getrecursionlimit()
    wanted = _stack_depth() + FRAMES_PER_LEVEL * MAX_NESTING
    if wanted > previous:
        sys.setrecursionlimit(wanted)
    try:
        yield
    finally:
        if wanted > previous:
            sys.setrecursionlimit(previous)


def python_rejects(source: bytes | str) -> ParseFailure | None:
    """Why CPython (or the nesting cap) refuses the source, or None when it is fine for LibCST."""
    try:
        python_ast(source)
    except SyntaxError as error:
        return ParseFailure(f"syntax error: {error.msg}", error.lineno or 1, error.offset or 1)
    except (RecursionError, MemoryError):
        return ParseFailure(f"source too deeply nested to analyse (more than {MAX_NESTING} levels, "
                            "or more than Python's parser accepts)")
    except ValueError:
        return None  # NUL bytes: parse_source says so
    return None


_LIMIT_CAPS: bool | None = None


def _recursion_limit_caps_ast() -> bool:
    """Whether this Python's ``ast.parse`` obeys the recursion limit (3.11 does; later versions
    use a fixed C limit): probed once, with a chain deeper than a low limit allows."""
    global _LIMIT_CAPS
    if _LIMIT_CAPS is None:
        previous = sys.getrecursionlimit()
        sys.setrecursionlimit(_stack_depth() + 50)
        try:
            ast.parse("x = " + "+".join(["1"] * 400))
            _LIMIT_CAPS = False
        except (RecursionError, MemoryError):
            _LIMIT_CAPS = True
        finally:
            sys.setrecursionlimit(previous)
    return _LIMIT_CAPS


def _stack_depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


def _deeper_than(tree: ast.AST, limit: int) -> bool:
    stack = [(tree, 0)]
    children = ast.iter_child_nodes
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children(node))
    return False


def _python_syntax_error(source: str) -> ParseFailure | None:
    """CPython's own message and position, which point at the offending token more precisely."""
    import ast

    try:
        ast.parse(source)
    except SyntaxError as error:
        return ParseFailure(f"syntax error: {error.msg}", error.lineno or 1, error.offset or 1)
    except (ValueError, RecursionError, MemoryError):
        return None
    return None


def _declares_encoding(source: bytes) -> bool:
    head = source.split(b"\n", 2)[:2]
    return any(b"coding" in line and line.lstrip().startswith(b"#") for line in head)


def dotted_name(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def import_bindings(node: cst.Import | cst.ImportFrom) -> list[tuple[str, str]]:
    """(local name, qualified name) pairs an import statement binds."""
    bound = []
    if isinstance(node, cst.Import):
        for alias in node.names:
            full = dotted_name(alias.name)
            if full is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                bound.append((alias.asname.name.value, full))
            else:
                head = full.split(".")[0]
                bound.append((head, head))
        return bound
    if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
        return bound
    module = dotted_name(node.module)
    if module is None:
        return bound
    return bound + names_bound(node.names, module)


def names_bound(names, module: str) -> list[tuple[str, str]]:
    """(local name, qualified name) pairs of ``from module import a, b as c``."""
    bound = []
    for alias in names:
        if not isinstance(alias.name, cst.Name):
            continue
        name = alias.name.value
        local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
        bound.append((local, f"{module}.{name}"))
    return bound


class Positions:
    """Spans of CST nodes, computed only when first asked for.

    Without a layout the whole module's table is computed at the first question.  With one (from
    ``shapelint.incremental``) each chunk of statements has its own table, with lines counted from
    the chunk's start, kept across versions as long as the chunk's text is unchanged; a question
    computes the tables of the chunks up to the node's, once.
    """

    def __init__(self, module: cst.Module, layout=None):
        self._module = module
        self._layout = layout
        self._table = None
        self._placed: list = []  # (table, line offset) of the layout's first chunks, in order
        self._next_offset = 0  # the line offset of the first chunk not in _placed
        self._last = 0  # where the last node was found: the next is often in the same chunk

    def span(self, node) -> Span:
        if isinstance(node, Span):
            return node
        pos, offset = self._find(node)
        if pos is None:
            return Span(1, 1, 1, 1)
        return Span(pos.start.line + offset, pos.start.column + 1, pos.end.line + offset, pos.end.column + 1)

    def find(self, node) -> Span | None:
        """The span of ``node``, or None when it is not a node of this module."""
        if isinstance(node, Span):
            return node
        pos, _ = self._find(node)
        return None if pos is None else self.span(node)

    def _find(self, node) -> tuple:
        if self._layout is None or node is self._module:
            if self._table is None:
                self._table = position_table((self._module,), self._module.default_indent,
                                             self._module.default_newline)[0]
            return self._table.get(node), 0
        # A node belongs to one chunk only (a parse makes a new object for every node).
        placed = self._placed
        if placed:
            table, offset = placed[self._last]
            pos = table.get(node)
            if pos is not None:
                return pos, offset
        for index, (table, offset) in enumerate(placed):
            pos = table.get(node)
            if pos is not None:
                self._last = index
                return pos, offset
        chunks, module = self._layout.chunks, self._module
        while len(placed) < len(chunks):
            offset = self._next_offset
            table, lines = chunks[len(placed)].positions(module.default_indent, module.default_newline)
            placed.append((table, offset))
            self._next_offset = offset + lines
            pos = table.get(node)
            if pos is not None:
                self._last = len(placed) - 1
                return pos, offset
        return None, 0

    def line(self, node) -> int:
        return self.span(node).line


class _Table:
    """What LibCST's position-recording codegen state writes to (a metadata provider's ``_computed``)."""

    __slots__ = ("_computed",)

    def __init__(self):
        self._computed = {}


def position_table(nodes, default_indent: str, default_newline: str) -> tuple:
    """(node -> CodeRange, position after the last node) with LibCST's ``PositionProvider``
    semantics for the nodes generated in order, lines counted from 1.  Runs the provider's own
    codegen state without ``MetadataWrapper``, whose extra visit of the whole tree costs as much
    again."""
    from libcst.metadata import CodePosition
    from libcst.metadata.position_provider import PositionProvidingCodegenState

    table = _Table()
    state = PositionProvidingCodegenState(default_indent=default_indent, default_newline=default_newline,
                                          provider=table)
    for node in nodes:
        node._codegen(state)
    return table._computed, CodePosition(state.line, state.column)
