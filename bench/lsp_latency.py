"""Language server latency: keystroke (didChange) to publishDiagnostics on a ~1,000-line model file.

    python bench/lsp_latency.py [--edits N] [--blocks N] [--breakdown]

Prints, per kind of edit, LibCST's parse time for the text (what a LibCST-based server would pay
to re-parse it; the median of one parse before each edit, so that it sees the same load as the
server), the median and worst latency with the server's debounce subtracted, and median / parse:

- ``default``: the whole text sent again with a constructor default changed in the first class
  (every other version introduces a channel mismatch, so half of them publish a diagnostic);
- ``class body``: a range edit inside one class in the middle of the file, the way editors send
  keystrokes, alternating a channel mismatch and its fix;
- ``typing``: a new line typed into that class one character per version, a few of them syntax
  errors (SL000).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def model_file(blocks: int) -> str:
    lines = ["import torch", "import torch.nn as nn", "", ""]
    for i in range(blocks):
        lines += [
            f"class Block{i}(nn.Module):",
            "    def __init__(self, channels=16):",
            "        super().__init__()",
            "        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)",
            "        self.bn1 = nn.BatchNorm2d(channels)",
            "        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)",
            "        self.bn2 = nn.BatchNorm2d(channels)",
            "",
            "    def forward(self, x):",
            "        out = torch.relu(self.bn1(self.conv1(x)))",
            "        out = self.bn2(self.conv2(out))",
            "        return torch.relu(out + x)",
            "",
            "",
        ]
    lines += ["model = nn.Sequential(" + ", ".join(f"Block{i}()" for i in range(blocks)) + ")",
              "y = model(torch.randn(1, 16, 32, 32))", ""]
    return "\n".join(lines)


def class_body_edits(text: str, block: int, edits: int) -> list:
    """Range edits in Block<block>.__init__: `channels)` <-> `channels + 1)` in its second BatchNorm."""
    line = text.splitlines().index(f"class Block{block}(nn.Module):") + 6
    column = len("        self.bn2 = nn.BatchNorm2d(channels")
    return [((line, column, line, column), " + 1") if i % 2 == 0 else ((line, column, line, column + 4), "")
            for i in range(edits)]


def typing_edits(text: str, block: int) -> list:
    """A new line typed into Block<block>.forward: Enter (the editor indents), then one character
    per version; `out =` and `out = out *` do not parse."""
    line = text.splitlines().index(f"class Block{block}(nn.Module):") + 10
    end = len(text.splitlines()[line])
    typed = "out = out * 2"
    return [((line, end, line, end), "\n        ")] + [((line + 1, 8 + i, line + 1, 8 + i), typed[i])
                                                      for i in range(len(typed))]


async def measure(text: str, versions: list) -> tuple:
    """(latencies, parse times): for each version, a whole text or a ((line, char, end line, end
    char), new text), the time from didChange to publishDiagnostics minus the debounce, and
    LibCST's parse time for the text measured just before (the server idle), so that both see the
    same load on a shared machine."""
    import libcst
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    from shapelint.lsp import DEBOUNCE_SECONDS

    published: asyncio.Queue = asyncio.Queue()
    client = LanguageClient("shapelint-bench", "0")

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params):
        published.put_nowait(time.perf_counter())

    workdir = Path(tempfile.mkdtemp(prefix="shapelint-lsp-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    await client.start_io(sys.executable, "-m", "shapelint", "lsp", cwd=str(workdir), env=env)
    await client.initialize_async(types.InitializeParams(process_id=os.getpid(), root_uri=workdir.as_uri(),
                                                         capabilities=types.ClientCapabilities()))
    client.initialized(types.InitializedParams())
    uri = (workdir / "model.py").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    await asyncio.wait_for(published.get(), 60)
    latencies, parses = [], []
    for version, change in enumerate(versions, start=2):
        parses.append(_timed(lambda: libcst.parse_module(text)))
        if isinstance(change, str):
            change = types.TextDocumentContentChangeWholeDocument(text=change)
        else:
            (line, character, end_line, end_character), new_text = change
            change = types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=line, character=character),
                                  end=types.Position(line=end_line, character=end_character)), text=new_text)
        sent = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[change]))
        received = await asyncio.wait_for(published.get(), 60)
        latencies.append(received - sent - DEBOUNCE_SECONDS)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return latencies, parses


def apply_edit(text: str, edit) -> str:
    """A range edit applied as the server applies it (lines and characters; ASCII text here)."""
    (line, character, end_line, end_character), new_text = edit
    lines = text.split("\n")
    start = sum(len(x) + 1 for x in lines[:line]) + character
    end = sum(len(x) + 1 for x in lines[:end_line]) + end_character
    return text[:start] + new_text + text[end:]


def breakdown(text: str, edits: list) -> None:
    """Where a keystroke's time goes inside the server, in process and with garbage collection
    off (as the server lints): medians over the edits of each phase, then the same versions
    through the whole-text path the server took before (parse, then MetadataWrapper positions)."""
    import gc

    import libcst
    from libcst.metadata import MetadataWrapper, PositionProvider

    from shapelint import frontends
    from shapelint.incremental import IncrementalParser
    from shapelint.parse import parse_source
    from shapelint.rules import model_findings

    versions, current = [], text
    for edit in edits:
        current = apply_edit(current, edit)
        versions.append(current)
    parser = IncrementalParser()
    parser.parse_with_positions(text)
    phases: dict = {}

    def timed(name, func):
        start = time.perf_counter()
        value = func()
        phases.setdefault(name, []).append(time.perf_counter() - start)
        return value

    gc.collect()
    gc.disable()
    try:
        for version in versions:
            timed("LibCST parse_module (whole text)", lambda: libcst.parse_module(version))
            module, positions = timed("incremental parse (ast.parse, changed chunks)",
                                      lambda: parser.parse_with_positions(version))
            if positions is None:
                continue
            timed("  of which ast.parse", lambda: __import__("ast").parse(version))
            models = timed("analysis (frontends)", lambda: frontends.analyse(module, {}))
            findings = timed("rules", lambda: [f for model in models for f in model_findings(model)])
            timed("positions of the findings (changed chunks)", lambda: [positions.span(f.site) for f in findings])
            if findings:
                whole = parse_source(version)
                timed("before: PositionProvider on the whole module",
                      lambda: MetadataWrapper(whole, unsafe_skip_copy=True).resolve(PositionProvider))
    finally:
        gc.enable()
    for name, times in phases.items():
        print(f"  {name}: {statistics.median(times) * 1000:.1f} ms (median of {len(times)})")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--blocks", type=int, default=70, help="model blocks (14 lines each)")
    parser.add_argument("--breakdown", action="store_true", help="also time the phases of a keystroke in process")
    args = parser.parse_args()
    text = model_file(args.blocks)
    print(f"file: {text.count(chr(10))} lines")
    middle = args.blocks // 2
    if args.breakdown:
        print("class body, in process:")
        breakdown(text, class_body_edits(text, middle, args.edits))
    scenarios = {
        "default": [text.replace("channels=16", f"channels={16 + version % 2}", 1)
                    for version in range(2, args.edits + 2)],
        "class body": class_body_edits(text, middle, args.edits),
        "typing": typing_edits(text, middle),
    }
    for name, versions in scenarios.items():
        latencies, parses = asyncio.run(measure(text, versions))
        parse = statistics.median(parses)
        print(f"{name} ({len(latencies)} edits): LibCST parse {parse * 1000:.0f} ms; didChange -> "
              f"publishDiagnostics (debounce subtracted) median {statistics.median(latencies) * 1000:.0f} ms, "
              f"worst {max(latencies) * 1000:.0f} ms; median / parse = {statistics.median(latencies) / parse:.2f}")


def _timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
