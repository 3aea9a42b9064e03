"""Language server over stdio (pygls): diagnostics (pushed, or pulled by clients that ask),
notebooks, shape hovers on layer definitions and calls, rule text on hover, shape inlay hints,
quick fixes (the finding's repair, and noqa).

A thin adapter: every feature reads one ``lint_source`` result per document version, computed
off the message loop (``shapelint/lsp_worker.py``) and read with ``ShapelintServer.result`` (never
waits) or ``await ShapelintServer.current_result`` (waits a little, on the loop, without
blocking it).  The stdio framing is ``shapelint/lsp_io.py``.
Imported only by ``shapelint lsp``; pygls is an optional extra.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
from contextlib import contextmanager
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.workspace.position_codec import ServerTextPosition, ServerTextRange

from shapelint import __version__
from shapelint.api import NOQA, FileResult, excluded, lint_notebook, lint_source
from shapelint.catalogue import rule_doc
from shapelint.incremental import IncrementalParser
from shapelint.lsp_io import StdinReader, read_messages
from shapelint.lsp_worker import INLINE_MAX_BYTES, Job, LintWorker, Outcome
from shapelint.lsp_worker import settings_for as _settings_for
from shapelint.project import default_project
from shapelint.shapes.dims import format_shape

DEBOUNCE_SECONDS = 0.3
FEATURE_WAIT_SECONDS = 2.0  # how long hover & co. wait for a lint in progress before answering without it
PULL_WAIT_SECONDS = 90.0  # a pulled report waits for its lint (bounded by the work budget, or the process timeout)
# Full garbage collections walk every live tree and result (tens of milliseconds on a large file):
# they run once the user has paused this long, or right after a publish when typing never pauses.
IDLE_COLLECTION_SECONDS = 1.0
LINTS_BETWEEN_COLLECTIONS = 20
SEVERITIES = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
              "info": types.DiagnosticSeverity.Information}


def lsp_range(document, line: int, column: int, end_line: int, end_column: int) -> types.Range:
    """The one place where shapelint's 1-based (line, column) in code points become LSP's 0-based
    positions in the client's code units (UTF-16 unless negotiated otherwise)."""
    server_range = ServerTextRange(ServerTextPosition(line - 1, column - 1),
                                   ServerTextPosition(end_line - 1, end_column - 1))
    return document.range_to_client_units(server_range)


def _skipped(path: str) -> bool:
    """Files the project's ``exclude`` (or, with ``respect-gitignore``, git) leaves out of a run get
    no diagnostics in the editor either, as with ``check --force-exclude``."""
    from shapelint import config as configuration
    from shapelint.gitignore import GitIgnore

    try:
        conf = configuration.load(Path(path).parent)
    except (configuration.ConfigError, OSError):
        return False
    if excluded(path, conf.exclude, str(conf.root) if conf.root else None):
        return True
    return conf.respect_gitignore and GitIgnore().ignored(path)


def _rule_doc_url(code: str, template: str | None) -> str | None:
    """The rule's documentation at ``template`` (the ``ruleDocsUrl`` initialization option, e.g.
    ``https://host/shapelint/blob/v0.1.0/rules/{code}.md``); None without one, as shapelint has no
    documentation site of its own: hovering the finding shows the rule's text instead."""
    return template.replace("{code}", code) if template and "{code}" in template else None


def rule_hover_text(code: str) -> str | None:
    """What ``shapelint rule CODE`` prints, shortened to its title and "What it does"."""
    from shapelint.report.sarif import doc_section

    try:
        doc = rule_doc(code)
    except FileNotFoundError:
        return None
    if not doc:
        return None
    title = doc.splitlines()[0].lstrip("# ").strip()
    what = doc_section(doc, "What it does")
    return f"**{title}**\n\n{what}\n\n`shapelint rule {code}` prints the whole text."


class ShapelintServer(LanguageServer):
    def __init__(self):
        super().__init__("shapelint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         notebook_document_sync=types.NotebookDocumentSyncOptions(notebook_selector=[
                             types.NotebookDocumentFilterWithCells(
                                 cells=[types.NotebookCellLanguage(language="python")], notebook="jupyter-notebook")]))
        self._results: dict = {}  # uri -> (version, FileResult)
        self._notebook_results: dict = {}  # notebook uri -> (version, {cell uri: [Diagnostic]})
        self._skip: dict = {}  # uri -> excluded from linting (decided on open and save)
        self.rule_docs_url: str | None = None  # the ruleDocsUrl initialization option
        self._pending: dict = {}  # uri -> debounced lint task
        self._parsers: dict = {}  # uri -> IncrementalParser (the lint thread's): a keystroke re-parses one statement
        self._idle_collection = None  # the timer of the next full garbage collection
        self._lints_since_collection = 0
        self._linting: dict = {}  # uri -> (version, Future of an Outcome), the newest lint asked for
        self._open: set = set()  # uris of open documents: a lint that ends after a close is dropped
        self._noticed: set = set()  # uris told that they are linted in a separate process
        self._loop = None
        self.linter = LintWorker(self._lint_inline, self._lint_done)

    def start_io(self, stdin=None, stdout=None):
        """pygls' stdio server, with a reader that survives broken framing (``lsp_io``)."""
        import sys
        import threading

        from pygls.io_ import StdoutWriter

        self._stop_event = threading.Event()
        reader = StdinReader(stdin or sys.stdin.buffer, self.thread_pool)
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(read_messages(self._stop_event, reader, self.protocol, self.report_server_error))
        except BrokenPipeError:
            pass  # the client went away
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.linter.close()
            self.shutdown()

    def lintable(self, uri: str) -> bool:
        document = self.workspace.get_text_document(uri)
        return not (document.path.endswith(".ipynb") or self.cell_notebook(uri) is not None or self.skipped(uri))

    def result(self, uri: str) -> FileResult | None:
        """The lint result of the document's current text when it is ready; never waits."""
        if not self.lintable(uri):
            return None
        document = self.workspace.get_text_document(uri)
        cached = self._results.get(uri)
        if cached and cached[0] == document.version and document.version is not None:
            return cached[1]
        return None

    async def current_result(self, uri: str, timeout: float = FEATURE_WAIT_SECONDS) -> FileResult | None:
        """The lint result of the document's current text, linting it if nobody has asked yet;
        waits at most ``timeout`` seconds (the loop goes on meanwhile), then None."""
        ready = self.result(uri)
        if ready is not None:
            return ready
        future = self.lint(uri)
        if future is None:
            return None
        try:
            outcome = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), timeout)
        except asyncio.TimeoutError:
            return None
        return self.result(uri) if outcome.result is not None else None

    def lint(self, uri: str):
        """Starts linting the document's current text (once per version); the diagnostics are
        published when it is done.  Returns the Future of its ``Outcome``, or None when the
        document is not linted this way (notebooks, excluded files)."""
        if not self.lintable(uri):
            return None
        document = self.workspace.get_text_document(uri)
        self._loop = asyncio.get_running_loop()
        self._open.add(uri)
        asked = self._linting.get(uri)
        if asked and asked[0] == document.version and document.version is not None:
            return asked[1]
        source = document.source
        if len(source) > INLINE_MAX_BYTES and uri not in self._noticed:
            self._noticed.add(uri)
            self.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Info,
                message=f"shapelint: {Path(document.path).name} is large ({len(source) // 1024} KB): its diagnostics "
                        "are computed in a separate process and come later; hover and inlay hints are off for it"))
        future = self.linter.submit(uri, document.version, source, document.path)
        self._linting[uri] = (document.version, future)
        return future

    def _lint_inline(self, job: Job) -> FileResult:
        """On the lint thread."""
        parser = self._parsers.get(job.uri)
        if parser is None:
            parser = self._parsers[job.uri] = IncrementalParser()
        with _collection_deferred():
            return lint_source(job.text, job.path, _settings_for(job.path), want_models=True, parser=parser)

    def _lint_done(self, job: Job, outcome: Outcome) -> None:
        """On the lint thread: the rest happens on the loop."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._finish, job, outcome)

    def _finish(self, job: Job, outcome: Outcome) -> None:
        if outcome.notice:
            self.window_log_message(types.LogMessageParams(type=types.MessageType.Warning, message=outcome.notice))
        if job.uri not in self._open:
            self._parsers.pop(job.uri, None)  # closed while it was linted
            return
        document = self.workspace.get_text_document(job.uri)
        if outcome.result is None or document.version != job.version:
            return  # a newer version is on its way
        self._results[job.uri] = (job.version, outcome.result)
        if not self.pulls_diagnostics:
            diagnostics = [self.to_lsp(document, d) for d in outcome.result.diagnostics]
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=job.uri, version=document.version, diagnostics=diagnostics))
        self._collect_later()

    def skipped(self, uri: str) -> bool:
        if uri not in self._skip:
            document = self.workspace.get_text_document(uri)
            self._skip[uri] = bool(document.path) and _skipped(document.path)
        return self._skip[uri]

    def recheck_exclusion(self, uri: str) -> None:
        self._skip.pop(uri, None)

    def cell_notebook(self, uri: str):
        """The notebook a cell document belongs to, or None for a plain text document."""
        return self.workspace.get_notebook_document(cell_uri=uri)

    @property
    def pulls_diagnostics(self) -> bool:
        """Clients that pull diagnostics (``textDocument/diagnostic``) are not sent them as well."""
        capabilities = self.client_capabilities
        text_document = capabilities.text_document if capabilities else None
        return text_document is not None and text_document.diagnostic is not None

    def diagnostics_for(self, uri: str) -> list:
        notebook = self.cell_notebook(uri)
        if notebook is not None:
            return self.notebook_diagnostics(notebook.uri).get(uri, [])
        document = self.workspace.get_text_document(uri)
        result = self.result(uri)
        return [self.to_lsp(document, d) for d in result.diagnostics] if result else []

    def publish(self, uri: str) -> None:
        """Lint now (also for clients that pull, so that the report is ready when they ask); the
        diagnostics are published when the lint is done."""
        if self.lint(uri) is not None or self.pulls_diagnostics:
            return
        document = self.workspace.get_text_document(uri)
        self.text_document_publish_diagnostics(  # not linted here (a cell, an excluded file)
            types.PublishDiagnosticsParams(uri=uri, version=document.version, diagnostics=self.diagnostics_for(uri)))

    def notebook_diagnostics(self, notebook_uri: str) -> dict:
        """Cell uri -> LSP diagnostics: the code cells linted as one program, as ``check`` lints a
        ``.ipynb`` file; computed once per notebook version."""
        notebook = self.workspace.get_notebook_document(notebook_uri=notebook_uri)
        if notebook is None:
            return {}
        cached = self._notebook_results.get(notebook_uri)
        if cached and cached[0] == notebook.version:
            return cached[1]
        cells = [c for c in notebook.cells if c.kind == types.NotebookCellKind.Code]
        documents = [self.workspace.get_text_document(c.document) for c in cells]
        per_cell: dict = {c.document: [] for c in cells}
        from pygls.uris import to_fs_path

        path = to_fs_path(notebook_uri) or notebook_uri
        if not _skipped(path):
            data = json.dumps({"cells": [{"cell_type": "code", "source": d.source} for d in documents],
                               "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode("utf-8")
            try:
                result = lint_notebook(data, path, _settings_for(path))
            except Exception as error:  # one odd notebook must not take the editor's server down
                self.window_log_message(types.LogMessageParams(
                    type=types.MessageType.Error, message=f"shapelint: internal error on {path}: {error!r}"))
                result = FileResult(path, [])
            for diag in result.diagnostics:
                if diag.cell is not None and 0 < diag.cell <= len(cells):
                    per_cell[cells[diag.cell - 1].document].append(self.to_lsp(documents[diag.cell - 1], diag))
        self._notebook_results[notebook_uri] = (notebook.version, per_cell)
        return per_cell

    def forget_notebook(self, notebook_uri: str) -> list:
        """The cells diagnosed last, once the notebook is closed."""
        pending = self._pending.pop(notebook_uri, None)
        if pending:
            pending.cancel()
        return list(self._notebook_results.pop(notebook_uri, (None, {}))[1])

    def publish_notebook(self, notebook_uri: str) -> None:
        if self.pulls_diagnostics:
            return
        for cell_uri, diagnostics in self.notebook_diagnostics(notebook_uri).items():
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=cell_uri,
                                                                                  diagnostics=diagnostics))

    def _collect_later(self) -> None:
        self._lints_since_collection += 1
        if self._idle_collection is not None:
            self._idle_collection.cancel()
            self._idle_collection = None
        if self._lints_since_collection >= LINTS_BETWEEN_COLLECTIONS:
            self._collect()  # the diagnostics are out already
        else:
            self._idle_collection = asyncio.get_event_loop().call_later(IDLE_COLLECTION_SECONDS, self._collect)

    def _collect(self) -> None:
        self._idle_collection = None
        self._lints_since_collection = 0
        gc.collect()

    def to_lsp(self, document, diag) -> types.Diagnostic:
        href = _rule_doc_url(diag.code, self.rule_docs_url)
        return types.Diagnostic(
            range=lsp_range(document, diag.line, diag.column, diag.end_line, diag.end_column),
            message=diag.message, severity=SEVERITIES.get(diag.severity, types.DiagnosticSeverity.Error),
            code=diag.code, code_description=types.CodeDescription(href=href) if href else None,
            source="shapelint")

    def schedule(self, uri: str, publish=None) -> None:
        if self._idle_collection is not None:  # the user is typing: not now
            self._idle_collection.cancel()
            self._idle_collection = None
        pending = self._pending.pop(uri, None)
        if pending:
            pending.cancel()

        async def later():
            await asyncio.sleep(DEBOUNCE_SECONDS)
            self._pending.pop(uri, None)
            (publish or self.publish)(uri)

        self._pending[uri] = asyncio.ensure_future(later())

    def forget(self, uri: str) -> None:
        pending = self._pending.pop(uri, None)
        if pending:
            pending.cancel()
        self._open.discard(uri)
        self._noticed.discard(uri)
        self._results.pop(uri, None)
        self._linting.pop(uri, None)
        self._parsers.pop(uri, None)
        self._skip.pop(uri, None)
        if not self.pulls_diagnostics:
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    def edited(self, uri: str, closed: bool = False) -> None:
        """The editor's text of a module is what the documents importing it see, until it is closed."""
        document = self.workspace.get_text_document(uri)
        if not document.path.endswith(".py"):
            return
        project = default_project(_settings_for(document.path).python)
        if closed:
            project.overlays.pop(os.path.abspath(document.path), None)
        else:
            project.overlays[os.path.abspath(document.path)] = document.source
        self.module_changed(document.path, uri)

    def module_changed(self, path: str, changed_uri: str | None = None) -> None:
        """Lint again, debounced, every open document whose analysis read the module at ``path``."""
        path = os.path.abspath(path)
        for uri, (_, result) in list(self._results.items()):
            if uri != changed_uri and result is not None and path in result.dependencies:
                self._results.pop(uri, None)
                self._linting.pop(uri, None)  # the same version, linted again
                self.schedule(uri)

    def layer_lines(self, uri: str, definitions: bool = False) -> dict:
        """0-based line -> [(layer name, input shape, output shape, call range)], in execution order:
        the lines where layers run, and with ``definitions`` also the lines that define them
        (``self.conv = nn.Conv2d(...)``: one entry per call of the layer)."""
        document = self.workspace.get_text_document(uri)
        result = self.result(uri)
        lines: dict = {}
        if not result or not result.positions:
            return lines
        seen = set()
        for model in result.models:
            for node in model.nodes:
                if not node.inputs or node.call_site is None:
                    continue
                sites = [node.call_site]
                if definitions and node.def_site is not None and node.def_site is not node.call_site:
                    sites.append(node.def_site)
                for site in sites:
                    span = result.positions.span(site)
                    where = lsp_range(document, span.line, span.column, span.end_line, span.end_column)
                    entry = (node.name, _shape(node.inputs[0]), _shape(node.output), where)
                    key = (span.line, span.column, entry[0], entry[1], entry[2])
                    if key not in seen:
                        seen.add(key)
                        lines.setdefault(where.start.line, []).append(entry)
        return lines


@contextmanager
def _collection_deferred():
    """No garbage collection at all while a keystroke waits for its diagnostics."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _prepare_collector() -> None:
    """Imported modules, classes and the protocol's converters live as long as the server: frozen,
    they stay out of every later collection, which then walks only the documents' trees and
    results.  Full collections no longer start on their own but when the user pauses
    (``ShapelintServer._collect_later``); the young generations still do."""
    import importlib

    from shapelint import frontends

    for name, _ in frontends.FRONTENDS:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1_000_000)


def _shape(shape) -> str:
    return "?" if shape is None else format_shape(shape)


def _noqa_edit(document, diag) -> types.TextEdit:
    """Append the code to the line's noqa comment, or add one."""
    text = document.lines[diag.line - 1].rstrip("\r\n") if diag.line - 1 < len(document.lines) else ""
    match = NOQA.search(text)
    if match and match.group("codes"):
        column, insert = match.end("codes") + 1, f", {diag.code}"
    else:
        column, insert = len(text) + 1, f"  # noqa: {diag.code}"
    return types.TextEdit(range=lsp_range(document, diag.line, column, diag.line, column), new_text=insert)


def _fix_action(document, diag, lsp_diag, diagnostics: list) -> types.CodeAction | None:
    """The finding's own repair, offered only when it proves itself as ``check --fix`` requires."""
    from shapelint.fix import SAFE
    from shapelint.fixer import proves

    if diag.fix is None or not proves(document.source, document.path, _settings_for(document.path), diag,
                                      diagnostics):
        return None
    fix = diag.fix
    edits = [types.TextEdit(range=lsp_range(document, e.line, e.column, e.end_line, e.end_column), new_text=e.content)
             for e in fix.edits]
    title = fix.message if fix.applicability == SAFE else f"{fix.message} (unsafe fix)"
    return types.CodeAction(title=title, kind=types.CodeActionKind.QuickFix, diagnostics=[lsp_diag],
                            edit=types.WorkspaceEdit(changes={document.uri: edits}),
                            is_preferred=fix.applicability == SAFE)


server = ShapelintServer()


@server.feature(types.INITIALIZED)
def initialized(ls: ShapelintServer, params: types.InitializedParams):
    """Ask to hear of modules changed on disk (by git, another editor) when the client can tell."""
    capabilities = ls.client_capabilities.workspace
    watched = capabilities.did_change_watched_files if capabilities is not None else None
    if watched is not None and watched.dynamic_registration:
        ls.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
            id="shapelint-watched-modules", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern="**/*.py")]))]))


@server.feature(types.INITIALIZE)
def initialize(ls: ShapelintServer, params: types.InitializeParams):
    options = params.initialization_options
    if isinstance(options, dict) and isinstance(options.get("ruleDocsUrl"), str):
        ls.rule_docs_url = options["ruleDocsUrl"]


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: ShapelintServer, params: types.DidOpenTextDocumentParams):
    ls.edited(params.text_document.uri)
    ls.publish(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: ShapelintServer, params: types.DidChangeTextDocumentParams):
    ls.edited(params.text_document.uri)
    ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: ShapelintServer, params: types.DidSaveTextDocumentParams):
    ls.recheck_exclusion(params.text_document.uri)
    ls.publish(params.text_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
def notebook_did_open(ls: ShapelintServer, params: types.DidOpenNotebookDocumentParams):
    ls.publish_notebook(params.notebook_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
def notebook_did_change(ls: ShapelintServer, params: types.DidChangeNotebookDocumentParams):
    ls.schedule(params.notebook_document.uri, ls.publish_notebook)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
def notebook_did_save(ls: ShapelintServer, params: types.DidSaveNotebookDocumentParams):
    ls.publish_notebook(params.notebook_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
def notebook_did_close(ls: ShapelintServer, params: types.DidCloseNotebookDocumentParams):
    cells = ls.forget_notebook(params.notebook_document.uri)
    if not ls.pulls_diagnostics:
        for cell in params.cell_text_documents:
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=cell.uri, diagnostics=[]))
        for cell_uri in cells:
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=cell_uri, diagnostics=[]))


@server.feature(types.TEXT_DOCUMENT_DIAGNOSTIC,
                types.DiagnosticOptions(identifier="shapelint", inter_file_dependencies=False,
                                        workspace_diagnostics=False))
async def pull_diagnostics(ls: ShapelintServer, params: types.DocumentDiagnosticParams):
    await ls.current_result(params.text_document.uri, PULL_WAIT_SECONDS)
    return types.RelatedFullDocumentDiagnosticReport(items=ls.diagnostics_for(params.text_document.uri))


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: ShapelintServer, params: types.DidCloseTextDocumentParams):
    ls.edited(params.text_document.uri, closed=True)
    ls.forget(params.text_document.uri)


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(ls: ShapelintServer, params: types.DidChangeWatchedFilesParams):
    for change in params.changes:
        if change.uri.startswith("file:"):
            ls.module_changed(ls.workspace.get_text_document(change.uri).path)


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def hover(ls: ShapelintServer, params: types.HoverParams) -> types.Hover | None:
    """The shapes of the layers defined or run on the line, and the text of the rules whose
    findings cover the position."""
    await ls.current_result(params.text_document.uri)
    parts = []
    layers = ls.layer_lines(params.text_document.uri, definitions=True).get(params.position.line)
    if layers:
        text = "\n".join(f"{name}: {shape_in} -> {shape_out}" for name, shape_in, shape_out, _ in layers)
        parts.append(f"```text\n{text}\n```")
    position = (params.position.line, params.position.character)
    codes = []
    for diag in ls.diagnostics_for(params.text_document.uri):
        start, end = diag.range.start, diag.range.end
        if (start.line, start.character) <= position <= (end.line, end.character) and diag.code not in codes:
            codes.append(diag.code)
    parts.extend(text for text in map(rule_hover_text, codes) if text)
    if not parts:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)))


@server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
async def inlay_hints(ls: ShapelintServer, params: types.InlayHintParams) -> list[types.InlayHint]:
    await ls.current_result(params.text_document.uri)
    document = ls.workspace.get_text_document(params.text_document.uri)
    hints = []
    for line, layers in sorted(ls.layer_lines(params.text_document.uri).items()):
        if not params.range.start.line <= line <= params.range.end.line or line >= len(document.lines):
            continue
        shape_out = layers[-1][2]  # the last layer run on the line produces what the line yields
        if shape_out == "?":
            continue
        end = len(document.lines[line].rstrip("\r\n")) + 1
        position = lsp_range(document, line + 1, end, line + 1, end).start
        hints.append(types.InlayHint(position=position, label=f"-> {shape_out}", kind=types.InlayHintKind.Type,
                                     padding_left=True))
    return hints


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
async def code_actions(ls: ShapelintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    result = await ls.current_result(uri)
    document = ls.workspace.get_text_document(uri)
    actions = []
    for diag in result.diagnostics if result else []:
        lsp_diag = ls.to_lsp(document, diag)
        if lsp_diag.range.end.line < params.range.start.line or lsp_diag.range.start.line > params.range.end.line:
            continue
        repair = _fix_action(document, diag, lsp_diag, result.diagnostics)
        if repair is not None:
            actions.append(repair)
        edit = types.WorkspaceEdit(changes={uri: [_noqa_edit(document, diag)]})
        actions.append(types.CodeAction(title=f"Ignore {diag.code} on this line", kind=types.CodeActionKind.QuickFix,
                                        diagnostics=[lsp_diag], edit=edit))
    return actions


def serve() -> None:
    _prepare_collector()
    server.start_io()
