"""Leave out of the LibCST parse the top-level statements no model can depend on.

LibCST's parse is half of shapelint's cost, and part of a module is tables, helpers and docs
that never touch a framework.  The standard library's ``ast`` (about 10x faster than LibCST)
finds the top-level statements and which module-level names each binds and reads.

*Relevant* statements reach a framework: they import one, or read a name a relevant statement
binds (``class Net(nn.Module)``, ``class Block(Base)`` when ``Base`` is relevant, a factory
returning ``Net(...)``).  Always kept: relevant statements, imports, ``if __name__ ==
"__main__":`` blocks, compound statements holding imports (``try: import ...``), and in a file
importing TensorFlow every function (tf.nn analyses uncalled functions on a tensor argument,
``def proj(x): return x @ x`` is a model there).  Any other statement is left out only when
all of these hold:

* no kept statement reads a name it binds (so every helper, base, decorator and table a kept
  statement uses stays, transitively: the interpreter resolves globals by name alone);
* no kept statement binds a name it binds (globals keep their order and first binding);
* what may run of it (all of a plain statement or a function, which a frontend may call on
  its own; a class's decorators, bases and body) reads nothing a kept statement binds or
  reaches, imports aside, so it cannot change an object the kept code sees.

Names are over-approximated, which only keeps more: every name a statement loads counts as
read, except a function's own locals (Python's scoping rules, comprehensions included); every
name a non-``def`` statement stores counts as bound.

A left-out statement becomes ``pass`` on its first line and empty lines after it: every kept
statement keeps its line and column, and comments around it stay attached to a statement of
their own (a ``# shapelint: input=`` above a left-out helper never moves onto the next class).
Statements sharing a line (``a = 1; b = 2``, a backslash continuation) go together.

A left-out statement no longer spends the interpreter's step budget; a file whose analysis
ran out of budget may get further when pruned (never less far).

Pruning never changes whether a file parses: it is skipped when ``ast`` rejects the file, and
when the installed LibCST cannot be shown to read every construct this Python's ``ast`` accepts
(a left-out statement is never seen by LibCST, so it must not hide a syntax error).
"""

from __future__ import annotations

import ast
import builtins
import re
import sys

# Names through which code reaches globals without naming them: if a kept statement uses one,
# nothing is left out (the interpreter treats them as unknown; this stays safe if it learns them).
DYNAMIC_NAMES = frozenset({"globals", "locals", "vars", "eval", "exec", "__import__"})
BUILTIN_NAMES = frozenset(dir(builtins))

# Syntax each Python version added, which LibCST must read for pruning to be safe there.
_GRAMMAR_PROBES = (
    ((3, 10), "match x:\n    case [a, *b] if a:\n        pass\n"),
    ((3, 11), "try:\n    pass\nexcept* ValueError:\n    pass\n"),
    ((3, 12), "type Alias[T] = list[T]\n"
              "def f[T: int, *Ts, **P](x: T) -> T:\n    return f\"{'a' + f\"{x!r:>{10}}\"}\"\n"
              "class C[T]:\n    pass\n"
              "y = f\"{'\\n'.join(z)}\"\n"),
    ((3, 13), "def g[T = int]():\n    pass\n"),
    ((3, 14), "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n"
              "z = t\"{x}\"\n"),
)
_NEWEST_PROBED = (3, 14)
_grammar_ok: bool | None = None

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def grammar_covered() -> bool:
    """Whether LibCST parses every construct this Python's ``ast`` accepts, as far as we know."""
    global _grammar_ok
    if _grammar_ok is None:
        version = sys.version_info[:2]
        if version > _NEWEST_PROBED:
            _grammar_ok = False  # syntax we have not probed for: parse whole files
        else:
            import libcst

            probe = "".join(text for since, text in _GRAMMAR_PROBES if since <= version)
            try:
                libcst.parse_module(probe)
                _grammar_ok = True
            except Exception:  # noqa: BLE001 - any failure means: do not prune
                _grammar_ok = False
    return _grammar_ok


class Statement:
    """One top-level statement: its lines and the module-level names it binds and reads."""

    __slots__ = ("node", "first", "last", "definition", "binds", "reads", "eager_reads", "framework",
                 "frameworks", "framework_star", "pinned")

    def __init__(self, node: ast.stmt, roots: frozenset):
        self.node = node
        decorators = getattr(node, "decorator_list", ())
        self.first = min([node.lineno] + [d.lineno for d in decorators])
        self.last = node.end_lineno or node.lineno
        self.definition = isinstance(node, _DEFINITIONS)
        scan = _Scan(roots)
        stores, direct, deferred = set(), set(), set()
        scan.walk([node], stores, direct, deferred)
        self.binds = stores | scan.global_binds
        self.reads = direct | deferred | scan.module_reads
        # What may run without a kept statement asking for it: all of a plain statement; a class's
        # bases, decorators and body (its methods run only when called); all of a function, whose
        # body the frontends may run on their own (torch's factories, Keras's uncalled functions).
        self.eager_reads = direct if isinstance(node, ast.ClassDef) else self.reads
        self.framework = bool(scan.frameworks)  # imports a framework somewhere inside
        self.frameworks = scan.frameworks
        self.framework_star = scan.framework_star  # from <framework> import *: names unknown here
        self.pinned = isinstance(node, (ast.Import, ast.ImportFrom)) or (scan.has_import and not self.definition) \
            or (isinstance(node, ast.If) and "__name__" in self.reads)


class _Scan:
    """Python's scoping, enough to tell a function's local names from the globals it reads.

    ``walk`` visits the nodes of one scope: names stored there go to ``stores``, names read to
    ``direct`` (run when the scope runs), free names of nested functions and lambdas to
    ``deferred`` (run only when called).  Over-approximations, which only keep more: a class
    body's reads all count as global, a walrus target binds at module level wherever it is."""

    def __init__(self, roots: frozenset):
        self.roots = roots
        self.framework_star = self.has_import = False
        self.frameworks: set = set()  # the framework import roots seen
        self.global_binds: set = set()  # declared ``global`` and stored in a function
        self.module_reads: set = set()  # declared ``global`` in a function: read past any enclosing scope

    def walk(self, nodes, stores: set, direct: set, deferred: set) -> None:
        Name, AST = ast.Name, ast.AST
        stack = list(nodes)
        pop, push = stack.pop, stack.append
        while stack:
            node = pop()
            kind = type(node)
            if kind is Name:
                if type(node.ctx) is ast.Load:
                    direct.add(node.id)
                else:
                    stores.add(node.id)
                continue
            if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef or kind is ast.Lambda:
                args = node.args
                stack.extend(d for d in args.defaults + args.kw_defaults if d is not None)
                if kind is ast.Lambda:
                    deferred |= self.function(args, [node.body])
                    continue
                stores.add(node.name)
                stack.extend(node.decorator_list)
                stack.extend(getattr(node, "type_params", None) or ())
                stack.extend(a.annotation for a in _arguments(args) if a.annotation is not None)
                if node.returns is not None:
                    push(node.returns)
                deferred |= self.function(args, node.body)
                continue
            if kind is ast.ClassDef:
                stores.add(node.name)
                stack.extend(node.decorator_list + node.bases + node.keywords)
                stack.extend(getattr(node, "type_params", None) or ())
                attributes = set()  # a class body's names bind no global, unless declared ``global``
                self.walk(node.body, attributes, direct, deferred)
                declared_global, _ = _declared(node.body)
                self.global_binds |= attributes & declared_global
                self.module_reads |= declared_global
                continue
            if kind in _COMPREHENSIONS:
                generators = node.generators
                push(generators[0].iter)  # evaluated in the enclosing scope
                inner = [g.target for g in generators] + [c for g in generators for c in g.ifs]
                inner += [g.iter for g in generators[1:]]
                inner += [node.key, node.value] if kind is ast.DictComp else [node.elt]
                local, reads, later = set(), set(), set()
                self.walk(inner, local, reads, later)
                direct |= reads - local
                deferred |= later - local
                continue
            if kind is ast.NamedExpr:
                # Binds in the enclosing function (or module) even inside a comprehension.
                self.global_binds.add(node.target.id)
                self.module_reads.add(node.target.id)
                stores.add(node.target.id)
                push(node.value)
                continue
            if kind is ast.Import or kind is ast.ImportFrom:
                self.has_import = True
                if kind is ast.Import:
                    for alias in node.names:
                        stores.add(alias.asname or alias.name.split(".")[0])
                        if alias.name.split(".")[0] in self.roots:
                            self.frameworks.add(alias.name.split(".")[0])
                    continue
                framework = not node.level and node.module is not None and node.module.split(".")[0] in self.roots
                if framework:
                    self.frameworks.add(node.module.split(".")[0])
                for alias in node.names:
                    if alias.name == "*":
                        self.framework_star = self.framework_star or framework
                    else:
                        stores.add(alias.asname or alias.name)
                continue
            if kind is ast.Global:
                # Handled by ``function``; at module level it changes nothing.
                continue
            if kind is ast.Nonlocal:
                direct.update(node.names)
                continue
            if kind is ast.ExceptHandler:
                if node.name:
                    stores.add(node.name)
            elif kind.__name__.startswith(("Match", "TypeVar", "ParamSpec")):
                # Names a match pattern or a type parameter binds are strings, not Name nodes.
                for field in ("name", "rest"):
                    name = getattr(node, field, None)
                    if isinstance(name, str):
                        stores.add(name)
            for field in node._fields:
                value = getattr(node, field, None)
                if type(value) is list:
                    for item in value:
                        if isinstance(item, AST):
                            push(item)
                elif isinstance(value, AST):
                    push(value)

    def function(self, args: ast.arguments, body: list) -> set:
        """The free names of a function scope (what it may read from enclosing scopes)."""
        declared_global, declared_nonlocal = _declared(body)
        stores, direct, deferred = set(), set(), set()
        self.walk(body, stores, direct, deferred)
        local = (stores | {a.arg for a in _arguments(args)}) - declared_global - declared_nonlocal
        self.global_binds |= stores & declared_global
        self.module_reads |= declared_global
        return (direct | deferred) - local


def _arguments(args: ast.arguments) -> list:
    return [a for a in args.posonlyargs + args.args + [args.vararg] + args.kwonlyargs + [args.kwarg] if a is not None]


def _declared(body: list) -> tuple[set, set]:
    """Names a function or class body declares ``global`` and ``nonlocal`` (not in nested scopes)."""
    declared_global, declared_nonlocal = set(), set()
    for node in _own_statements(body):
        if type(node) is ast.Global:
            declared_global.update(node.names)
        elif type(node) is ast.Nonlocal:
            declared_nonlocal.update(node.names)
    return declared_global, declared_nonlocal


def _own_statements(body: list):
    """The statements of a function body, not those of functions or classes nested in it."""
    stack = list(body)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (*_DEFINITIONS, ast.Lambda)):
            continue
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            value = getattr(node, field, None)
            if type(value) is list:  # a lambda's or an IfExp's body is an expression
                stack.extend(value)


def kept_statements(statements: list[Statement], function_roots=()) -> list[bool]:
    """Which top-level statements the analysis may need (see the module docstring).

    ``function_roots``: frameworks whose frontend runs every module-level function the file does
    not call on a tensor (tf.nn's): when the file imports one, every ``def`` is kept, since it
    may compute on its argument without naming the framework (``return x @ w``)."""
    count = len(statements)
    binders: dict = {}
    readers: dict = {}
    for index, stmt in enumerate(statements):
        for name in stmt.binds:
            binders.setdefault(name, []).append(index)
        for name in stmt.reads:
            readers.setdefault(name, []).append(index)

    relevant = [stmt.framework for stmt in statements]
    if any(stmt.framework_star for stmt in statements):
        # Any name bound nowhere in the file may be one the star import brought in.
        for index, stmt in enumerate(statements):
            if any(name not in binders and name not in BUILTIN_NAMES for name in stmt.reads):
                relevant[index] = True
    _spread(statements, readers, relevant)

    every_function = any(stmt.frameworks.intersection(function_roots) for stmt in statements)
    kept = [relevant[i] or statements[i].pinned
            or (every_function and isinstance(statements[i].node, (ast.FunctionDef, ast.AsyncFunctionDef)))
            for i in range(count)]
    while True:
        kept, read_names = _closure(statements, binders, kept)
        kept_binds = set()
        for index in range(count):
            if kept[index]:
                kept_binds |= statements[index].binds
        # Statements that reach, when run, something a kept statement binds or reads.
        touching = [kept[i] and not isinstance(statements[i].node, (ast.Import, ast.ImportFrom)) for i in range(count)]
        _spread(statements, readers, touching)
        forced = [i for i in range(count) if not kept[i] and (
            statements[i].binds & kept_binds
            or any(touching[b] for name in statements[i].eager_reads for b in binders.get(name, ())))]
        if not forced:
            break
        for index in forced:
            kept[index] = True
    if read_names & DYNAMIC_NAMES:
        return [True] * count
    return kept


def _spread(statements: list[Statement], readers: dict, marked: list) -> None:
    """Mark, in place, every statement that reads a name a marked statement binds, transitively."""
    pending = [name for index, flag in enumerate(marked) if flag for name in statements[index].binds]
    seen = set(pending)
    while pending:
        name = pending.pop()
        for index in readers.get(name, ()):
            if not marked[index]:
                marked[index] = True
                for bound in statements[index].binds:
                    if bound not in seen:
                        seen.add(bound)
                        pending.append(bound)


def _closure(statements: list[Statement], binders: dict, kept: list) -> tuple[list, set]:
    """``kept`` plus every statement binding a name a kept one reads, transitively; and the names read."""
    kept = list(kept)
    pending = [i for i in range(len(kept)) if kept[i]]
    read_names: set = set()
    while pending:
        index = pending.pop()
        for name in statements[index].reads:
            if name in read_names:
                continue
            read_names.add(name)
            for binder in binders.get(name, ()):
                if not kept[binder]:
                    kept[binder] = True
                    pending.append(binder)
    return kept, read_names


def _line_groups(statements: list[Statement], lines: list) -> list[list[int]]:
    """Indices of statements that share a physical line (or a backslash continuation)."""
    groups: list[list[int]] = []
    last_line = 0
    for index, stmt in enumerate(statements):
        if groups and (stmt.first <= last_line or _continued(lines, stmt.first - 1)):
            groups[-1].append(index)
        else:
            groups.append([index])
        last_line = max(last_line, stmt.last)
    return groups


def _continued(lines: list, number: int) -> bool:
    """Whether physical line ``number`` (1-based) ends with a backslash continuation."""
    if number < 1 or number > len(lines):
        return False
    return lines[number - 1].rstrip(b"\r\n").endswith(b"\\")


class Pruned:
    """The pruned source and how much of the file it keeps."""

    __slots__ = ("source", "lines", "kept_lines", "statements", "kept_statements")

    def __init__(self, source: bytes, lines: int, kept_lines: int, statements: int, kept_statements: int):
        self.source = source
        self.lines = lines
        self.kept_lines = kept_lines
        self.statements = statements
        self.kept_statements = kept_statements


# The gate: ``ast.parse`` plus the scan cost about 15% of a LibCST parse, so pruning pays only
# when it leaves out more than that.  Measured on torchvision + timm, what is left out is mostly
# big module-level tables (timm's ``default_cfgs``); the bodies of model classes and factories,
# 80% of those files, are all needed.  A regex finds top-level assignments spanning many lines
# with no framework attribute in them; only when they make up enough of the file is it pruned.
_TOP_LINE = re.compile(rb"^[A-Za-z_@][^\n]*", re.MULTILINE)
_CLAUSE = re.compile(rb"(?:else|elif|except|finally)\b")
_ASSIGNMENT = re.compile(rb"[A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*\s*(?::[^=\n]*)?=(?!=)")
_FRAMEWORK_ATTRIBUTE = re.compile(rb"\b(?:torch|nn|tf|keras|layers|F)\.")
MIN_TABLE_LINES = 10
MIN_TABLE_SHARE = 0.1


def worth_pruning(data: bytes) -> bool:
    """Whether the file likely holds enough left-out-able tables to repay the ``ast`` pass (a
    guess from the text; what is left out is decided by ``kept_statements`` alone)."""
    starts = [m for m in _TOP_LINE.finditer(data) if not _CLAUSE.match(m.group())]
    table_lines = 0
    for index, match in enumerate(starts):
        if not _ASSIGNMENT.match(match.group()):
            continue
        end = starts[index + 1].start() if index + 1 < len(starts) else len(data)
        lines = data.count(b"\n", match.start(), end)
        if lines >= MIN_TABLE_LINES and not _FRAMEWORK_ATTRIBUTE.search(data, match.start(), end):
            table_lines += lines
    return table_lines >= MIN_TABLE_SHARE * (data.count(b"\n") + 1)


def prune(data: bytes, roots, always: bool = False, function_roots=()) -> Pruned | None:
    """``data`` with the statements no model can need left out, or None to parse it whole
    (also when ``worth_pruning`` says it would not pay, unless ``always``)."""
    if not always and not worth_pruning(data):
        return None
    head = data.split(b"\n", 2)[:2]
    if any(b"coding" in line and line.lstrip().startswith(b"#") for line in head):
        return None  # a declared encoding: leave decoding questions to the full parse
    if not grammar_covered():
        return None
    try:
        tree = ast.parse(data)
    except Exception:  # noqa: BLE001 - SyntaxError, ValueError (NUL), RecursionError, MemoryError...
        return None
    if len(tree.body) < 2:
        return None
    roots = frozenset(roots)
    try:
        statements = [Statement(node, roots) for node in tree.body]
    except RecursionError:
        return None
    kept = kept_statements(statements, function_roots)
    if all(kept):
        return None
    lines = data.splitlines(keepends=True)  # bytes split on \n, \r\n and \r only, as Python's tokenizer does
    out = list(lines)
    kept_count = dropped_lines = 0
    for group in _line_groups(statements, lines):
        if any(kept[i] for i in group):
            kept_count += len(group)
            continue
        first = statements[group[0]].first
        last = max(statements[i].last for i in group)
        if last > len(lines):
            return None  # ast and this line split disagree: do not guess
        for number in range(first, last + 1):
            line = lines[number - 1]
            out[number - 1] = line[len(line.rstrip(b"\r\n")):]
        line = lines[first - 1]
        bom = b"\xef\xbb\xbf" if first == 1 and line.startswith(b"\xef\xbb\xbf") else b""
        out[first - 1] = bom + b"pass" + line[len(line.rstrip(b"\r\n")):]
        dropped_lines += last - first + 1
    if not dropped_lines:
        return None
    return Pruned(b"".join(out), len(lines), len(lines) - dropped_lines, len(statements), kept_count)
