"""End to end: a real LSP client (pygls) talks to `python -m shapelint lsp` over stdio."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[1]
BUGGY = """import torch
import torch.nn as nn

model = nn.Sequential(
    nn.Conv2d(3, 16, 3),
    nn.Conv2d(32, 8, 3),
)
y = model(torch.randn(1, 3, 32, 32))
"""
FIXED = BUGGY.replace("nn.Conv2d(32, 8, 3)", "nn.Conv2d(16, 8, 3)")
TIMEOUT = 20


class Client(LanguageClient):
    def __init__(self):
        super().__init__("shapelint-test", "0")
        self.published: asyncio.Queue = asyncio.Queue()

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams):
            self.published.put_nowait(params)

    async def next_diagnostics(self, uri: str) -> list:
        while True:
            params = await asyncio.wait_for(self.published.get(), TIMEOUT)
            if params.uri == uri:
                return list(params.diagnostics)


async def _session(tmp_path: Path) -> dict:
    """Drives one editing session and returns what the server answered at each step."""
    seen = {}
    client = Client()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    await client.start_io(sys.executable, "-m", "shapelint", "lsp", cwd=str(tmp_path), env=env)
    try:
        seen["initialize"] = await asyncio.wait_for(client.initialize_async(types.InitializeParams(
            process_id=os.getpid(), root_uri=tmp_path.as_uri(), capabilities=types.ClientCapabilities())), TIMEOUT)
        client.initialized(types.InitializedParams())
        path = tmp_path / "net.py"
        path.write_text(BUGGY)
        uri = path.as_uri()
        document = types.TextDocumentIdentifier(uri=uri)

        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=BUGGY)))
        seen["open"] = await client.next_diagnostics(uri)

        whole = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=8, character=0))
        seen["hover"] = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
            text_document=document, position=types.Position(line=4, character=8))), TIMEOUT)
        seen["hover_blank"] = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
            text_document=document, position=types.Position(line=2, character=0))), TIMEOUT)
        seen["hints"] = await asyncio.wait_for(client.text_document_inlay_hint_async(types.InlayHintParams(
            text_document=document, range=whole)), TIMEOUT)
        line_six = types.Range(start=types.Position(line=5, character=4), end=types.Position(line=5, character=4))
        seen["actions"] = await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
            text_document=document, range=line_six,
            context=types.CodeActionContext(diagnostics=seen["open"]))), TIMEOUT)

        # Two quick edits: the debounce lints once, the text the user ended with.
        half = BUGGY.replace("nn.Conv2d(32, 8, 3)", "nn.Conv2d(1, 8, 3)")
        for version, text in ((2, half), (3, FIXED)):
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
        seen["changed"] = await client.next_diagnostics(uri)
        seen["hints_fixed"] = await asyncio.wait_for(client.text_document_inlay_hint_async(types.InlayHintParams(
            text_document=document, range=whole)), TIMEOUT)

        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=4),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=BUGGY)]))
        client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=document))
        seen["saved"] = await client.next_diagnostics(uri)

        client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=document))
        seen["closed"] = await client.next_diagnostics(uri)
        # The debounced lint of version 4 must not resurrect diagnostics after the close.
        await asyncio.sleep(0.6)
        seen["late"] = [p for p in _drain(client.published) if p.uri == uri]
        await asyncio.wait_for(client.shutdown_async(None), TIMEOUT)
        client.exit(None)
    finally:
        await asyncio.wait_for(client.stop(), TIMEOUT)
    return seen


def _drain(queue: asyncio.Queue) -> list:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    return asyncio.run(_session(tmp_path_factory.mktemp("lsp")))


def test_server_advertises_its_features(session):
    info, capabilities = session["initialize"].server_info, session["initialize"].capabilities
    assert info.name == "shapelint"
    assert capabilities.hover_provider and capabilities.inlay_hint_provider
    assert list(capabilities.code_action_provider.code_action_kinds) == [types.CodeActionKind.QuickFix]
    assert capabilities.text_document_sync.open_close and capabilities.text_document_sync.save


def test_open_publishes_the_channel_mismatch(session):
    [diag] = session["open"]
    assert diag.code == "SL101"
    assert diag.source == "shapelint"
    assert diag.severity == types.DiagnosticSeverity.Error
    assert diag.range == types.Range(start=types.Position(line=5, character=4),
                                     end=types.Position(line=5, character=23))
    assert "expects 32 input channels but receives 16" in diag.message
    # No link into the local installation (file://): without a documentation URL configured
    # (the ruleDocsUrl initialization option, tests/test_lsp_workflow.py) hovering the finding
    # shows the rule's text instead.
    assert diag.code_description is None


def test_change_to_the_fixed_text_clears_diagnostics(session):
    assert session["changed"] == []


def test_save_and_close(session):
    assert [d.code for d in session["saved"]] == ["SL101"]
    assert session["closed"] == []
    assert session["late"] == []


def test_hover_shows_the_layer_shapes(session):
    value = session["hover"].contents.value
    assert "Conv2d: [1, 3, 32, 32] -> [1, 16, 30, 30]" in value
    assert session["hover_blank"] is None


def test_inlay_hints_show_output_shapes_at_line_ends(session):
    hints = {(h.position.line, h.position.character): h.label for h in session["hints"]}
    assert hints == {(4, len("    nn.Conv2d(3, 16, 3),")): "-> [1, 16, 30, 30]"}
    fixed = {h.position.line: h.label for h in session["hints_fixed"]}
    assert fixed == {4: "-> [1, 16, 30, 30]", 5: "-> [1, 8, 28, 28]"}


def test_code_action_appends_noqa(session):
    [action] = [a for a in session["actions"] if a.title.startswith("Ignore")]
    assert action.title == "Ignore SL101 on this line"
    [edit] = action.edit.changes[next(iter(action.edit.changes))]
    end = len("    nn.Conv2d(32, 8, 3),")
    assert edit.range == types.Range(start=types.Position(line=5, character=end),
                                     end=types.Position(line=5, character=end))
    assert edit.new_text == "  # noqa: SL101"
    lines = BUGGY.splitlines()
    lines[5] += edit.new_text
    from shapelint.api import lint_source

    assert lint_source("\n".join(lines) + "\n", "net.py").diagnostics == []


def test_code_action_repairs(session):
    """The finding's fix comes first, as an unsafe quick fix that rewrites in_channels only."""
    repair, noqa = session["actions"]
    assert repair.title == "Set in_channels to 16, the channels Conv2d receives (unsafe fix)"
    assert repair.kind == types.CodeActionKind.QuickFix and not repair.is_preferred
    assert [d.code for d in repair.diagnostics] == ["SL101"]
    [edit] = repair.edit.changes[next(iter(repair.edit.changes))]
    start = len("    nn.Conv2d(")
    assert edit.range == types.Range(start=types.Position(line=5, character=start),
                                     end=types.Position(line=5, character=start + 2))
    assert edit.new_text == "16"
    lines = BUGGY.splitlines()
    lines[5] = lines[5][:start] + edit.new_text + lines[5][start + 2:]
    from shapelint.api import lint_source

    assert lint_source("\n".join(lines) + "\n", "net.py").diagnostics == []


def test_check_never_imports_pygls(tmp_path):
    import subprocess

    (tmp_path / "net.py").write_text(BUGGY)
    code = ("import sys; from shapelint.cli import main; sys.argv = ['shapelint', 'check', 'net.py'];\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "assert 'pygls' not in sys.modules and 'lsprotocol' not in sys.modules, 'pygls imported'")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "SL101" in done.stdout


def test_positions_are_converted_to_utf16_code_units():
    from pygls.workspace import TextDocument

    from shapelint.lsp import lsp_range

    # shapelint columns count code points; LSP counts UTF-16 units by default, and 😀 takes two.
    document = TextDocument("file:///x.py", "s = '😀'; y = model(x)\n")
    # `y` is the 10th code point (column 10, 0-based 9) but starts at UTF-16 unit 10.
    assert lsp_range(document, 1, 10, 1, 11) == types.Range(start=types.Position(line=0, character=10),
                                                             end=types.Position(line=0, character=11))
    assert lsp_range(document, 1, 1, 1, 2) == types.Range(start=types.Position(line=0, character=0),
                                                           end=types.Position(line=0, character=1))


def test_project_settings_apply_to_open_documents(tmp_path):
    from shapelint.lsp import _settings_for

    (tmp_path / "pyproject.toml").write_text('[tool.shapelint]\nignore = ["SL101"]\n')
    (tmp_path / "pkg").mkdir()
    settings = _settings_for(str(tmp_path / "pkg" / "net.py"))
    assert not settings.enabled("SL101") and settings.enabled("SL102")


MODEL = """import torch
import torch.nn as nn


class Stem(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)

    def forward(self, x):
        return self.conv(x)


class Body(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(16, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)

    def forward(self, x):
        return self.conv2(self.conv1(x))


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(x), 1))


model = nn.Sequential(Stem(), Body(), Head())
y = model(torch.randn(1, 3, 32, 32))
"""


def _edit(line: int, character: int, end_line: int, end_character: int, text: str):
    return types.TextDocumentContentChangePartial(
        range=types.Range(start=types.Position(line=line, character=character),
                          end=types.Position(line=end_line, character=end_character)), text=text)


# Keystroke-sized range edits (0-based lines and characters, as an editor sends them).
EDITS = [
    _edit(2, 0, 2, 0, "# two lines more above every class\n\n"),      # every later statement moves down
    _edit(19, 31, 19, 33, "32"),                                        # Body.conv2 fixed: 32 -> 32
    _edit(29, 28, 29, 30, "31"),                                        # Head.fc now expects 31 features
    _edit(9, 30, 9, 30, "("),                                           # a syntax error in Stem
    _edit(9, 30, 9, 31, ""),                                            # ... fixed
    _edit(16, 0, 16, 0, "    expansion = 1\n"),                         # a line inside Body's class body
    _edit(6, 0, 15, 0, ""),                                             # Stem deleted
    _edit(27, 22, 27, 30, ""),                                          # and its call: Body gets 3 channels
    _edit(16, 0, 16, 0, "\n\nclass Extra(nn.Module):\n    pass\n"),   # a new class between two
]


async def _incremental_session(tmp_path: Path) -> list:
    """After each edit: (what the server published for the edited document, what it publishes for
    a fresh document with the same text), and at the end both documents' inlay hints."""
    from pygls.workspace import TextDocument

    client = Client()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    await client.start_io(sys.executable, "-m", "shapelint", "lsp", cwd=str(tmp_path), env=env)
    steps = []
    try:
        await asyncio.wait_for(client.initialize_async(types.InitializeParams(
            process_id=os.getpid(), root_uri=tmp_path.as_uri(), capabilities=types.ClientCapabilities())), TIMEOUT)
        client.initialized(types.InitializedParams())
        uri = (tmp_path / "edited.py").as_uri()
        mirror = TextDocument(uri, MODEL, version=1)
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=MODEL)))
        opened = await client.next_diagnostics(uri)
        steps.append((MODEL, opened, opened))
        for version, change in enumerate(EDITS, start=2):
            mirror.apply_change(change)
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[change]))
            edited = await client.next_diagnostics(uri)
            fresh_uri = (tmp_path / f"fresh{version}.py").as_uri()
            client.text_document_did_open(types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=fresh_uri, language_id="python", version=1,
                                                     text=mirror.source)))
            fresh = await client.next_diagnostics(fresh_uri)
            steps.append((mirror.source, edited, fresh))
            if version == len(EDITS) + 1:
                whole = types.Range(start=types.Position(line=0, character=0),
                                    end=types.Position(line=len(mirror.lines), character=0))
                hints = []
                for hinted in (uri, fresh_uri):
                    hints.append(await asyncio.wait_for(client.text_document_inlay_hint_async(types.InlayHintParams(
                        text_document=types.TextDocumentIdentifier(uri=hinted), range=whole)), TIMEOUT))
                steps.append(hints)
            client.text_document_did_close(types.DidCloseTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=fresh_uri)))
        await asyncio.wait_for(client.shutdown_async(None), TIMEOUT)
        client.exit(None)
    finally:
        await asyncio.wait_for(client.stop(), TIMEOUT)
    return steps


@pytest.fixture(scope="module")
def incremental_session(tmp_path_factory):
    return asyncio.run(_incremental_session(tmp_path_factory.mktemp("lsp-incremental")))


def _published(diagnostics: list) -> list:
    return [(d.range, d.code, d.severity, d.message) for d in diagnostics]


def test_edits_publish_what_a_fresh_open_publishes(incremental_session):
    *steps, hints = incremental_session
    assert len(steps) == len(EDITS) + 1
    from shapelint.api import lint_source

    for number, (text, edited, fresh) in enumerate(steps):
        assert _published(edited) == _published(fresh), f"after edit {number}:\n{text}"
        # ... and what the command line reports (a whole parse, positions from the whole tree).
        expected = [(d.line - 1, d.column - 1, d.end_line - 1, d.end_column - 1, d.code, d.message)
                    for d in lint_source(text, "edited.py").diagnostics]
        assert [(d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character,
                 d.code, d.message) for d in edited] == expected
    # The edits did what they say, so the comparison covered findings that move, appear and go.
    codes = [[d.code for d in edited] for _, edited, _ in steps]
    assert codes[0] == ["SL101"] and codes[1] == ["SL101"] and codes[2] == []
    assert codes[3] == ["SL102"] and codes[4] == ["SL000"] and codes[5] == ["SL102"]
    assert codes[7] == [] and codes[8] == codes[9] == ["SL101"]
    assert steps[1][1][0].range.start.line == steps[0][1][0].range.start.line + 2
    edited_hints, fresh_hints = hints
    assert edited_hints and [(h.position, h.label) for h in edited_hints] == \
        [(h.position, h.label) for h in fresh_hints]


BLOCKS = """import torch.nn as nn


class Block(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(x)
"""
NET = """import torch
import torch.nn as nn

from blocks import Block

model = nn.Sequential(nn.Conv2d(3, 16, 3), Block(16))
y = model(torch.randn(1, 3, 32, 32))
"""


async def _project_session(tmp_path: Path) -> dict:
    """A model file importing a block from another module: editing the module (in the editor, then
    on disk) lints the model file again."""
    seen = {}
    client = Client()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    await client.start_io(sys.executable, "-m", "shapelint", "lsp", cwd=str(tmp_path), env=env)
    try:
        await asyncio.wait_for(client.initialize_async(types.InitializeParams(
            process_id=os.getpid(), root_uri=tmp_path.as_uri(), capabilities=types.ClientCapabilities())), TIMEOUT)
        client.initialized(types.InitializedParams())
        (tmp_path / "blocks.py").write_text(BLOCKS)
        (tmp_path / "net.py").write_text(NET)
        net, blocks = (tmp_path / "net.py").as_uri(), (tmp_path / "blocks.py").as_uri()
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=net, language_id="python", version=1, text=NET)))
        seen["open"] = await client.next_diagnostics(net)
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=blocks, language_id="python", version=1, text=BLOCKS)))
        await client.next_diagnostics(blocks)
        broken = BLOCKS.replace("nn.Conv2d(channels, channels", "nn.Conv2d(channels * 2, channels")
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=blocks, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=broken)]))
        seen["edited"] = await client.next_diagnostics(net)  # unsaved: the editor's text counts
        client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=blocks)))
        seen["closed"] = await client.next_diagnostics(net)  # back to the file on disk
        (tmp_path / "blocks.py").write_text(broken)
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=blocks, type=types.FileChangeType.Changed)]))
        seen["on_disk"] = await client.next_diagnostics(net)
        await asyncio.wait_for(client.shutdown_async(None), TIMEOUT)
        client.exit(None)
    finally:
        await asyncio.wait_for(client.stop(), TIMEOUT)
    return seen


def test_editing_an_imported_module_lints_its_importers_again(tmp_path):
    seen = asyncio.run(_project_session(tmp_path))
    assert seen["open"] == []
    [diag] = seen["edited"]
    assert diag.code == "SL101" and diag.range.start.line == 6 and diag.message.endswith("[in blocks.py:7]"), diag
    assert seen["closed"] == []
    assert [d.code for d in seen["on_disk"]] == ["SL101"]
