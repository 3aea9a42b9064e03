"""The language server as editors use it, end to end over stdio (`python -m shapelint lsp`):
hover on the lines that define layers, notebooks, pulled diagnostics, the project's exclude,
and the rule's text for a finding."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 20
NET = """import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3)
        self.conv2 = nn.Conv2d(32, 8, 3)

    def forward(self, x):
        return self.conv2(self.conv1(x))


y = Net()(torch.randn(1, 3, 32, 32))
"""
CELLS = ["import torch\nimport torch.nn as nn\n",
         "model = nn.Sequential(\n    nn.Conv2d(3, 16, 3),\n    nn.Conv2d(32, 8, 3),\n)\n",
         "y = model(torch.randn(1, 3, 32, 32))\n"]


class Client(LanguageClient):
    def __init__(self):
        super().__init__("shapelint-test", "0")
        self.published: dict = {}
        self.arrived = asyncio.Event()

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams):
            self.published[params.uri] = list(params.diagnostics)
            self.arrived.set()

    async def wait_for(self, uri: str) -> list:
        async def arrival():
            while uri not in self.published:
                self.arrived.clear()
                await self.arrived.wait()
            return self.published.pop(uri)

        return await asyncio.wait_for(arrival(), TIMEOUT)


async def _start(tmp_path: Path, capabilities=None, options=None) -> Client:
    client = Client()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    await client.start_io(sys.executable, "-m", "shapelint", "lsp", cwd=str(tmp_path), env=env)
    client.init_result = await asyncio.wait_for(client.initialize_async(types.InitializeParams(
        process_id=os.getpid(), root_uri=tmp_path.as_uri(), capabilities=capabilities or types.ClientCapabilities(),
        initialization_options=options)), TIMEOUT)
    client.initialized(types.InitializedParams())
    return client


async def _stop(client: Client) -> None:
    await asyncio.wait_for(client.shutdown_async(None), TIMEOUT)
    client.exit(None)
    await client.stop()


def _open(client: Client, path: Path, text: str) -> str:
    path.write_text(text)
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    return uri


async def _hover(client: Client, uri: str, line: int, character: int):
    return await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=character))),
        TIMEOUT)


async def _push_session(tmp_path: Path) -> dict:
    seen = {}
    (tmp_path / "vendor").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.shapelint]\nexclude = ["vendor/*"]\n')
    client = await _start(tmp_path)
    try:
        uri = _open(client, tmp_path / "net.py", NET)
        seen["open"] = await client.wait_for(uri)
        seen["hover_definition"] = await _hover(client, uri, 7, 10)   # self.conv1 = nn.Conv2d(3, 16, 3)
        seen["hover_call"] = await _hover(client, uri, 11, 10)        # return self.conv2(self.conv1(x))
        seen["hover_finding"] = await _hover(client, uri, 8, 24)      # inside the flagged Conv2d(32, 8, 3)
        seen["hover_blank"] = await _hover(client, uri, 2, 0)
        vendored = _open(client, tmp_path / "vendor" / "net.py", NET)
        seen["excluded"] = await client.wait_for(vendored)

        notebook_uri = (tmp_path / "analysis.ipynb").as_uri()
        cell_uris = [f"vscode-notebook-cell:{tmp_path / 'analysis.ipynb'}#cell{i}" for i in range(len(CELLS))]
        client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(
                uri=notebook_uri, notebook_type="jupyter-notebook", version=1,
                cells=[types.NotebookCell(kind=types.NotebookCellKind.Code, document=u) for u in cell_uris]),
            cell_text_documents=[types.TextDocumentItem(uri=u, language_id="python", version=1, text=t)
                                 for u, t in zip(cell_uris, CELLS)]))
        seen["cells"] = [await client.wait_for(u) for u in cell_uris]
        fixed = CELLS[1].replace("(32, 8", "(16, 8")
        client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
            notebook_document=types.VersionedNotebookDocumentIdentifier(uri=notebook_uri, version=2),
            change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
                types.NotebookDocumentCellContentChanges(
                    document=types.VersionedTextDocumentIdentifier(uri=cell_uris[1], version=2),
                    changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)])]))))
        seen["cell_fixed"] = await client.wait_for(cell_uris[1])
    finally:
        await _stop(client)
    return seen


@pytest.fixture(scope="module")
def push(tmp_path_factory):
    return asyncio.run(_push_session(tmp_path_factory.mktemp("lsp-push")))


def test_hover_on_the_line_that_defines_a_layer(push):
    assert "Conv2d: [1, 3, 32, 32] -> [1, 16, 30, 30]" in push["hover_definition"].contents.value
    assert "Conv2d: [1, 3, 32, 32] -> [1, 16, 30, 30]" in push["hover_call"].contents.value
    assert push["hover_blank"] is None


def test_hover_on_a_finding_shows_the_rules_text(push):
    value = push["hover_finding"].contents.value
    assert "**SL101: channel-mismatch**" in value and "`shapelint rule SL101`" in value
    from shapelint.catalogue import rule_doc
    from shapelint.report.sarif import doc_section

    assert doc_section(rule_doc("SL101"), "What it does") in value


def test_no_link_to_a_local_file(push):
    [diag] = push["open"]
    assert diag.code == "SL101" and diag.code_description is None


def test_files_under_exclude_get_no_diagnostics(push):
    assert [d.code for d in push["open"]] == ["SL101"]
    assert push["excluded"] == []


def test_notebook_cells_get_their_diagnostics(push):
    first, second, third = push["cells"]
    assert first == [] and third == []
    [diag] = second
    assert diag.code == "SL101" and "expects 32 input channels but receives 16" in diag.message
    assert diag.range == types.Range(start=types.Position(line=2, character=4),
                                     end=types.Position(line=2, character=23))
    assert push["cell_fixed"] == []


async def _pull_session(tmp_path: Path) -> dict:
    seen = {}
    capabilities = types.ClientCapabilities(text_document=types.TextDocumentClientCapabilities(
        diagnostic=types.DiagnosticClientCapabilities(related_document_support=False)))
    client = await _start(tmp_path, capabilities,
                          {"ruleDocsUrl": "https://example.org/shapelint/blob/v0.1.0/rules/{code}.md"})
    try:
        seen["capabilities"] = client.init_result.capabilities
        uri = _open(client, tmp_path / "net.py", NET)
        seen["report"] = await asyncio.wait_for(client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=uri))), TIMEOUT)
        await asyncio.sleep(1)  # anything pushed would have arrived by now
        seen["pushed"] = dict(client.published)
    finally:
        await _stop(client)
    return seen


@pytest.fixture(scope="module")
def pull(tmp_path_factory):
    return asyncio.run(_pull_session(tmp_path_factory.mktemp("lsp-pull")))


def test_pull_diagnostics(pull):
    assert pull["capabilities"].diagnostic_provider.identifier == "shapelint"
    [diag] = pull["report"].items
    assert diag.code == "SL101" and diag.range.start == types.Position(line=8, character=21)
    assert pull["pushed"] == {}  # a client that pulls is not sent the same diagnostics twice


def test_rule_links_follow_the_configured_documentation_url(pull):
    [diag] = pull["report"].items
    assert diag.code_description.href == "https://example.org/shapelint/blob/v0.1.0/rules/SL101.md"
