"""lint_paths -> lint_file -> lint_source: generators of results; nothing here prints."""

from __future__ import annotations

import os
import re
from dataclasses import astuple, dataclass, field
from pathlib import Path

from shapelint.fix import Fix, FixContext, fix_for
from shapelint.ir import Span
from shapelint.parse import ParseFailure, Positions, parse_source, room_for_nesting
from shapelint.rules import RULES, findings_of
from shapelint.suppress import FILE_NOQA, IGNORE, NOQA, suppressing_line, unused

MAX_FILE_BYTES = 5 * 1024 * 1024  # read at most this much of a file
# Parse at most this much: LibCST's tree takes about 1 GB of memory per MB of source.  Files that
# import no framework are never parsed, so they are only checked for syntax, up to MAX_FILE_BYTES.
MAX_ANALYSED_BYTES = 2 * 1024 * 1024
# Only files that import a framework can hold a model; a cheap test before parsing.
FRAMEWORK_HINT = re.compile(rb"^[ \t]*(?:import|from)[ \t]+(?:torch|tensorflow|keras|tf_keras)\b|"
                            rb"^[ \t]*import[ \t].*,[ \t]*(?:torch|tensorflow|keras|tf_keras)\b", re.MULTILINE)


@dataclass
class Diagnostic:
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    severity: str
    message: str
    confirmed: bool | None = None
    runtime: str | None = None
    cell: int | None = None
    fix: Fix | None = None  # the repair ``check --fix`` may apply

    def __post_init__(self):
        if isinstance(self.fix, dict):  # read back from the result cache
            self.fix = Fix.from_json(self.fix)

    def to_json(self) -> dict:
        data = {"path": self.path, "line": self.line, "column": self.column, "end_line": self.end_line,
                "end_column": self.end_column, "code": self.code, "severity": self.severity,
                "message": self.message, "confirmed": self.confirmed,
                "fix": self.fix.to_json() if self.fix is not None else None}
        if self.runtime is not None:
            data["runtime"] = self.runtime
        if self.cell is not None:
            data["cell"] = self.cell
        return data


@dataclass
class Settings:
    select: tuple = ()
    ignore: tuple = ()
    extend_select: tuple = ()
    inputs: dict = field(default_factory=dict)  # "path:Name" or "Name" -> shape
    per_file_ignores: dict = field(default_factory=dict)  # glob -> codes
    root: str | None = None  # what per-file-ignores patterns are relative to
    python: str | None = None  # the project's Python, whose site-packages imports are read from
    show_unchecked: bool = False  # list each layer whose shape stayed unknown, and why

    def ignored_in(self, path: str) -> tuple:
        import fnmatch

        if not self.per_file_ignores:
            return ()
        candidates = {Path(path).as_posix(), Path(path).name}
        if self.root:
            try:
                candidates.add(Path(path).resolve().relative_to(Path(self.root).resolve()).as_posix())
            except ValueError:
                pass
        codes = ()
        for pattern, ignored in self.per_file_ignores.items():
            if any(fnmatch.fnmatch(c, pattern) for c in candidates):
                codes += tuple(ignored)
        return codes

    def enabled(self, code: str) -> bool:
        rule = RULES.get(code)
        if self.select:
            chosen = any(code.startswith(p) for p in self.select)
        else:
            chosen = rule is None or rule.default
        if any(code.startswith(p) for p in self.extend_select):
            chosen = True
        if any(code.startswith(p) for p in self.ignore):
            chosen = False
        return chosen


@dataclass
class FileResult:
    path: str
    diagnostics: list
    models: list = field(default_factory=list)
    positions: Positions | None = None
    # Names the analysis looked up as models (classes, variables, functions): what an
    # ``--input-shape NAME=...`` can name in this file.
    model_names: tuple = ()
    # When input shapes are configured by name: every class, function and variable the file binds
    # (a configured name that is none of these is a misspelling).
    bound_names: tuple = ()
    dependencies: dict = field(default_factory=dict)  # path -> content digest of the modules it imported
    where: object = None  # node -> (path, Span), for nodes of this file and of the modules it imported
    coverage: dict = field(default_factory=dict)  # models, layers, known, unchecked (shapelint.coverage)


class _InputLookups(dict):
    """The configured input shapes of one file; remembers which model names the frontends asked for."""

    def __init__(self, *args):
        super().__init__(*args)
        self.asked: set = set()

    def get(self, key, default=None):
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.asked.add(key)
        return super().__contains__(key)


def _suppressed(lines: list[str], diag: Diagnostic) -> bool:
    return suppressing_line(lines, diag) is not None


def inputs_for(settings: Settings, path: str) -> dict:
    found = {}
    norm = Path(path).as_posix()
    for key, shape in settings.inputs.items():
        if ":" in key:
            file_part, name = key.rsplit(":", 1)
            if norm == file_part or norm.endswith("/" + file_part.lstrip("./")):
                found[name] = shape
        else:
            found[key] = shape
    return found


def lint_source(source: bytes | str, path: str = "<stdin>", settings: Settings | None = None,
                want_models: bool = False, line_map: list | None = None, prune: str = "auto",
                parser=None, project=None) -> FileResult:
    """``prune``: ``"auto"`` leaves statements no model can need out of the parse when that pays
    (``shapelint/prune.py``), ``"always"`` whenever it can, ``"never"`` parses the whole file;
    findings and models are the same in every mode.

    ``parser``: a ``shapelint.incremental.IncrementalParser`` that saw the document's previous
    versions (the language server keeps one per document); it reuses their unchanged statements
    and takes the place of pruning.

    ``project``: a ``shapelint.project.Project`` holding the modules of this run, so that each is
    parsed once and a finding in a file of the run is reported there (default: one per process)."""
    with room_for_nesting():
        return _lint_source(source, path, settings, want_models, line_map, prune, parser, project)


def _lint_source(source, path, settings, want_models, line_map, prune, parser, project) -> FileResult:
    settings = settings or Settings()
    text_bytes = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source
    if not want_models and not FRAMEWORK_HINT.search(text_bytes) and b"\x00" not in text_bytes:
        # Nothing to analyse; still report files that do not parse, as the contract promises.
        if _looks_parseable(text_bytes):
            return FileResult(path, [])
    if len(text_bytes) > MAX_ANALYSED_BYTES:
        diags = []
        if settings.enabled("SL000") and not any("SL000".startswith(p) for p in settings.ignored_in(path)):
            diags.append(Diagnostic(path, 1, 1, 1, 1, "SL000", "error",
                                    f"file too large to analyse ({len(text_bytes)} bytes; the limit is "
                                    f"{MAX_ANALYSED_BYTES}, as its syntax tree would take about 1 GB per MB)"))
        return FileResult(path, diags)
    from shapelint.project import analysing, default_project

    project = project or default_project(settings.python)
    positions = None
    incremental = parser is not None and isinstance(source, str)
    on_disk = path != "<stdin>" and not line_map and not incremental
    # A module another file of the run imported is already parsed (whole): the same tree serves.
    module = project.parsed(path, text_bytes) if on_disk else None
    shared = module is not None
    if not shared:
        module = _parse_pruned(source, text_bytes, prune == "always") if prune != "never" and not incremental else None
    pruned = module is not None and not shared
    if incremental:
        module, positions = parser.parse_with_positions(source)
    elif not pruned and not shared:
        module = parse_source(source)
        if on_disk and not isinstance(module, ParseFailure):
            project.remember(path, text_bytes, module)
    if isinstance(module, ParseFailure):
        diags = []
        if settings.enabled("SL000") and not any("SL000".startswith(p) for p in settings.ignored_in(path)):
            diags.append(Diagnostic(path, module.line, module.column, module.line, module.column, "SL000",
                                    "error", module.message))
        return FileResult(path, diags)
    # The source text itself, not module.code: regenerating code from the tree costs as much as parsing.
    code_text = source if isinstance(source, str) else source.decode("utf-8", "replace")
    if FILE_NOQA.search(code_text[:4096]):
        return FileResult(path, [])
    from shapelint import frontends
    from shapelint.frontends import budget

    inputs = _InputLookups(inputs_for(settings, path))
    with analysing(project, None if path == "<stdin>" else path) as context, budget.for_file() as work:
        try:
            models = frontends.analyse(module, inputs, code_text)
        except RecursionError:
            models = []
    model_names = tuple(sorted(n for n in inputs.asked | {m.name for m in models} if n != "*" and n[:1] != "<"))
    bound_names = _bound_names(code_text) if any(k != "*" for k in inputs) else ()
    if positions is None:
        positions = Positions(module)
    findings = findings_of(models)
    diags, seen, found = [], set(), []
    lines = None
    fix_context = None
    file_ignores = settings.ignored_in(path)
    check_unused = settings.enabled("SL002") and not any("SL002".startswith(p) for p in file_ignores)
    for finding in findings:
        wanted = settings.enabled(finding.code) and not any(finding.code.startswith(p) for p in file_ignores)
        if not wanted and not check_unused:
            continue
        span = positions.find(finding.site)
        if span is None:
            foreign = _foreign_diagnostic(finding, context, positions, path, settings, code_text) if wanted else None
            if foreign is not None and (foreign.code, foreign.path, foreign.line, foreign.column) not in seen:
                seen.add((foreign.code, foreign.path, foreign.line, foreign.column))
                diags.append(foreign)
            continue
        if not wanted:  # SL002 asks whether a comment suppresses anything, whatever is selected
            found.append(Diagnostic(path, span.line, span.column, span.end_line, span.end_column, finding.code,
                                    RULES[finding.code].severity, ""))
            continue
        key = (finding.code, path, span.line, span.column)
        if key in seen:
            continue
        seen.add(key)
        message = _message(finding, _cell_spans(positions.span, line_map) if line_map else positions.span)
        diag = Diagnostic(path, span.line, span.column, span.end_line, span.end_column, finding.code,
                          RULES[finding.code].severity, message)
        if lines is None:
            lines = code_text.splitlines()
        found.append(diag)
        if not _suppressed(lines, diag):
            if finding.problem is not None and not line_map:
                if fix_context is None:
                    fix_context = FixContext(module, code_text, positions.span)
                diag.fix = fix_for(finding.problem, finding.node, fix_context)
            diags.append(diag)
    if work.exhausted_in is not None and settings.enabled("SL001") \
            and not any("SL001".startswith(p) for p in file_ignores):
        diag = _budget_diagnostic(path, work, positions)
        if not _suppressed(lines if lines is not None else code_text.splitlines(), diag):
            diags.append(diag)
    if check_unused:
        diags.extend(_unused_suppressions(path, code_text, found, models, positions))
    diags.sort(key=lambda d: (d.path != path, d.path, d.line, d.column, d.code))

    def where(node):
        span = positions.find(node)
        if span is not None:
            return path, span
        located = context.locate(node) if context is not None else None
        return (str(located[0]), located[1]) if located is not None else None

    return FileResult(path, diags, models if want_models else [], positions, model_names, bound_names,
                      dependencies=context.dependencies if context is not None else {}, where=where,
                      coverage=_coverage(models, where, settings.show_unchecked, context))


def _bound_names(code_text: str) -> tuple:
    import ast

    try:
        tree = ast.parse(code_text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
    return tuple(sorted(names))


def _unused_suppressions(path, code_text, found, models, positions) -> list:
    """SL002: suppression comments that suppress nothing, where the analysis proves it (see rules/SL002.md).
    ``found``: every finding on the file before selection and suppression."""
    def reportable(code: str) -> bool:
        return code in RULES and code not in ("SL000", "SL002")

    lines = code_text.splitlines()
    out = []
    for d in unused(code_text, lines, found, models, positions.span, reportable):
        diag = Diagnostic(path, d.line, d.column, d.line, d.end_column, "SL002", RULES["SL002"].severity,
                          f"unused suppression: {d.code} reports nothing on this line (its layers' shapes "
                          "are all known)")
        if not _suppressed(lines, diag):
            out.append(diag)
    return out


def _coverage(models, where, details: bool, context) -> dict:
    from shapelint.coverage import measure

    found = measure(models, (lambda node: node.anchor is None and not context.is_foreign(node.def_site))
                    if context is not None else (lambda node: True))
    layers = []  # with details: every layer the models applied, wherever defined, with positions
    for site, name, ok, why in found.layer_sites if details else ():
        at = where(site)
        if at is None:
            continue
        text = ""
        if why is not None:
            text, cause = why
            cause_at = where(cause) if cause is not None else None
            if cause_at is not None:
                text += f" ({'line ' if cause_at[0] == at[0] else _display_path(Path(cause_at[0]), at[0]) + ':'}" \
                        f"{cause_at[1].line})"
        layers.append([_display_path(Path(at[0]), at[0]), at[1].line, at[1].column, name, ok, text])
    return {"models": found.models, "layers": found.layers, "known": found.known, "unchecked": layers}


def _foreign_diagnostic(finding, context, positions, path, settings, code_text) -> Diagnostic | None:
    """A finding at a line of a module this file imports: reported there when that file is part
    of the run, else at the call in this file that leads to it, naming the file and line."""
    located = context.locate(finding.site) if context is not None else None
    if located is None:
        return None
    where, span = located
    display = _display_path(where, path)

    in_run = context.project.in_run(where)

    def span_of(node):
        found = positions.find(node)
        if found is not None:
            return found if in_run is False else FileSpan(*astuple(found), path=_display_path(Path(path), path))
        other = context.locate(node)
        if other is None:
            return Span(1, 1, 1, 1)
        if in_run and other[0] == where:
            return other[1]
        return FileSpan(*astuple(other[1]), path=_display_path(other[0], path))

    message = finding.message(span_of) if callable(finding.message) else finding.message
    severity = RULES[finding.code].severity
    if in_run:
        if any(finding.code.startswith(p) for p in settings.ignored_in(display)):
            return None
        diag = Diagnostic(display, span.line, span.column, span.end_line, span.end_column, finding.code,
                          severity, message)
        try:
            lines = where.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        return None if _suppressed(lines, diag) else diag
    anchor = finding.node.anchor if finding.node is not None else None
    at = positions.find(anchor) if anchor is not None else None
    if at is None:
        return None
    diag = Diagnostic(path, at.line, at.column, at.end_line, at.end_column, finding.code, severity,
                      f"{message} [in {display}:{span.line}]")
    return None if _suppressed(code_text.splitlines(), diag) else diag


def _display_path(where: Path, importer: str) -> str:
    """A path as the user would write it: relative to the current directory when below it."""
    try:
        relative = os.path.relpath(where)
    except ValueError:
        return str(where)
    return str(where) if relative.startswith("..") else relative


def _budget_diagnostic(path: str, work, positions: Positions) -> Diagnostic:
    """SL001 where the analysis ran out of steps: the function (or module) it was analysing."""
    from shapelint.frontends.budget import FILE_STEPS
    from shapelint.frontends.interp import STEP_BUDGET

    what = f"`{work.label}`" if work.label else "module-level code"
    if work.per_model:
        message = (f"analysis of {what} stopped after {STEP_BUDGET:,} steps (the budget per model); "
                   "findings that depend on the rest of it may be missing")
    else:
        message = (f"analysis stopped in {what}: the file's budget of {FILE_STEPS:,} steps is spent; "
                   "findings in the code analysed after it may be missing")
    span = positions.span(work.exhausted_in) if work.label else Span(1, 1, 1, 1)
    return Diagnostic(path, span.line, span.column, span.line, span.column, "SL001", RULES["SL001"].severity, message)


def _message(finding, span_of) -> str:
    """The finding's text; a finding whose text cannot be made is still reported, by its rule."""
    if not callable(finding.message):
        return finding.message
    try:
        return finding.message(span_of)
    except Exception as error:  # noqa: BLE001 - a message never costs the finding
        rule = RULES[finding.code]
        return f"{rule.summary} (details unavailable: {type(error).__name__})"


def _parse_pruned(source: bytes | str, data: bytes, always: bool):
    """The module parsed without the statements no model can need (``shapelint/prune.py``);
    None to parse the whole file instead, as when the pruned source does not parse."""
    from shapelint.frontends import FUNCTION_ROOTS, IMPORT_ROOTS
    from shapelint.prune import prune

    pruned = prune(data, IMPORT_ROOTS, always, FUNCTION_ROOTS)
    if pruned is None:
        return None
    text = pruned.source if isinstance(source, bytes) else pruned.source.decode("utf-8", "surrogatepass")
    module = parse_source(text)
    return None if isinstance(module, ParseFailure) else module


def _cell_spans(span_of, line_map):
    """For notebooks: spans in messages point into cells, not into the joined program."""
    def mapped(site):
        span = span_of(site)
        if 0 < span.line <= len(line_map):
            cell, line = line_map[span.line - 1]
            return CellSpan(line, span.column, line, span.end_column, cell)
        return span
    return mapped


@dataclass(frozen=True)
class CellSpan(Span):
    cell: int = 0


@dataclass(frozen=True)
class FileSpan(Span):
    """A span in another file than the one reported on."""

    path: str = ""


def _looks_parseable(data: bytes) -> bool:
    """Cheap syntax check for files the pre-filter skips (ast is ~10x faster than LibCST)."""
    import ast

    try:
        ast.parse(data)
    except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError, MemoryError):
        return False
    return True


def lint_notebook(data: bytes, path: str, settings: Settings | None = None, want_models: bool = False) -> FileResult:
    from shapelint import notebook

    settings = settings or Settings()
    try:
        cells = notebook.read_cells(data)
    except (ValueError, UnicodeDecodeError) as error:
        return FileResult(path, [Diagnostic(path, 1, 1, 1, 1, "SL000", "error", f"cannot read notebook: {error}")])
    program = notebook.to_program(cells)
    diags = [Diagnostic(path, line, col, line, col, "SL000", "error", message, cell=number)
             for number, line, col, message in program.broken if settings.enabled("SL000")]
    result = lint_source(program.source, path, settings, want_models, line_map=program.line_map)
    for diag in result.diagnostics:
        if 0 < diag.line <= len(program.line_map):
            diag.cell, diag.line = program.line_map[diag.line - 1]
            end = program.line_map[min(diag.end_line, len(program.line_map)) - 1]
            diag.end_line = end[1] if end[0] == diag.cell else diag.line
        diags.append(diag)
    diags.sort(key=lambda d: (d.cell or 0, d.line, d.column, d.code))
    return FileResult(path, diags, result.models, result.positions, result.model_names, result.bound_names,
                      dependencies=result.dependencies, where=result.where, coverage=result.coverage)


class SourceError(Exception):
    """A path that is not read: not a regular file, too large, or unreadable."""


INTERNAL_ERROR = "internal error"  # how SL000 messages for shapelint's own failures begin (exit code 2)


def is_internal_error(diag: Diagnostic) -> bool:
    return diag.code == "SL000" and diag.message.startswith(INTERNAL_ERROR)


def read_source(path: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file, at most ``limit`` of them; anything else (a FIFO, a device, a
    socket, a directory) is refused without reading or blocking.  Raises ``SourceError``."""
    import stat

    def refuse_special(mode: int) -> None:
        if stat.S_ISDIR(mode):  # a directory that could not be listed (see collect_files)
            try:
                os.listdir(path)
            except OSError as error:
                raise SourceError(f"cannot read directory: {error.strerror}") from None
            raise SourceError("cannot read directory")
        if not stat.S_ISREG(mode):
            kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else \
                "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file"
            raise SourceError(f"not a regular file ({kind})")

    try:
        refuse_special(os.stat(path).st_mode)  # a device is never even opened (opening some has effects)
    except OSError:
        pass  # the open below says why
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)  # non-blocking: opening a FIFO with no writer returns at once
    except OSError as error:
        what = "directory" if os.path.isdir(path) else "file"
        raise SourceError(f"cannot read {what}: {error.strerror}") from None
    try:
        refuse_special(os.fstat(fd).st_mode)  # what was opened, not what the path named a moment ago
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise SourceError(f"file too large to lint (more than {limit} bytes)")
        return b"".join(chunks)
    except OSError as error:
        raise SourceError(f"cannot read file: {error.strerror}") from None
    finally:
        os.close(fd)


def lint_file(path: str, settings: Settings | None = None, want_models: bool = False,
              data: bytes | None = None, project=None) -> FileResult:
    """``data``: the file's bytes when the caller has read them already (``read_source``)."""
    if data is not None and len(data) > MAX_FILE_BYTES:
        return FileResult(path, [Diagnostic(path, 1, 1, 1, 1, "SL000", "error",
                                            f"file too large to lint (more than {MAX_FILE_BYTES} bytes)")])
    if data is None:
        try:
            data = read_source(path)
        except SourceError as error:
            return FileResult(path, [Diagnostic(path, 1, 1, 1, 1, "SL000", "error", str(error))])
    try:
        if path.endswith(".ipynb"):
            return lint_notebook(data, path, settings, want_models)
        return lint_source(data, path, settings, want_models, project=project)
    except RecursionError:
        return FileResult(path, [Diagnostic(path, 1, 1, 1, 1, "SL000", "error",
                                            "source too deeply nested to analyse (recursion limit)")])
    except Exception as error:  # noqa: BLE001 - one bad file never stops the run
        return FileResult(path, [Diagnostic(path, 1, 1, 1, 1, "SL000", "error",
                                            f"{INTERNAL_ERROR} while analysing {path}: {type(error).__name__}: {error}")])


SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "venv", ".tox", ".nox", "node_modules",
             ".mypy_cache", ".ruff_cache", ".pytest_cache", "build", "dist", ".eggs"}


def excluded(path: str, exclude: tuple, root: str | None = None) -> bool:
    """Whether ``path`` matches one of the ``exclude`` globs: against the path as given, its name,
    any trailing part of it, and the path relative to ``root`` (the configuration's directory)."""
    import fnmatch

    if not exclude:
        return False
    posix = Path(path).as_posix()
    candidates = [posix]
    if root:
        try:
            candidates.append(Path(os.path.abspath(path)).relative_to(Path(root).resolve()).as_posix())
        except ValueError:
            pass
    for pat in exclude:
        pat = pat.rstrip("/")
        for candidate in candidates:
            if (fnmatch.fnmatch(candidate, pat) or fnmatch.fnmatch(Path(candidate).name, pat)
                    or fnmatch.fnmatch(candidate, f"*/{pat}") or fnmatch.fnmatch(candidate, f"{pat}/*")
                    or fnmatch.fnmatch(candidate, f"*/{pat}/*")):
                return True
    return False


def collect_files(paths, exclude: tuple = (), respect_gitignore: bool = False, force_exclude: bool = False,
                  root: str | None = None) -> list[str]:
    """The ``.py`` and ``.ipynb`` files under ``paths``.  Directories are walked without ``exclude``d
    and (with ``respect_gitignore``) git-ignored entries; a file named explicitly is linted anyway
    unless ``force_exclude`` (what pre-commit and editors need: they pass every file by name)."""
    from shapelint.gitignore import GitIgnore

    ignored = GitIgnore() if respect_gitignore else None
    files = []
    for top in paths:
        if not os.path.isdir(top):  # a FIFO or device named on the command line is refused when read
            if not force_exclude or not (excluded(top, exclude, root) or (ignored and ignored.ignored(top))):
                files.append(top)
            continue
        if excluded(top, exclude, root) and force_exclude:
            continue
        # A directory that cannot be listed is linted as a path too: it is reported, not skipped.
        for dirpath, dirnames, filenames in os.walk(top, onerror=lambda error: files.append(error.filename)):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info")
                                 and not excluded(os.path.join(dirpath, d), exclude, root)
                                 and not (ignored and ignored.ignored(os.path.join(dirpath, d), directory=True)))
            for name in sorted(filenames):
                if name.endswith((".py", ".ipynb")):
                    full = os.path.join(dirpath, name)
                    if not excluded(full, exclude, root) and not (ignored and ignored.ignored(full)):
                        files.append(full)
    return files


def lint_paths(paths, settings: Settings | None = None, exclude: tuple = ()):
    for path in collect_files(paths, exclude):
        yield lint_file(path, settings)


__all__ = ["Diagnostic", "Settings", "FileResult", "SourceError", "lint_source", "lint_file", "lint_paths",
           "read_source", "is_internal_error", "Span"]
