"""The incremental parser builds, edit after edit, exactly the module a whole-text parse builds:
same code, same nodes, same positions, same diagnostics; and it really reuses statements."""

from __future__ import annotations

import random
import re
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from shapelint.api import lint_source
from shapelint.incremental import IncrementalParser
from shapelint.parse import ParseFailure, parse_source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# Random edits make literals like `16x`: CPython warns while parse_source asks it for the message.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

# Layout corner cases: header comments, decorators, `;`, continuations, comments indented into a
# class body after its last statement (they belong to the class), top-level if/else, a docstring,
# a string holding what looks like a top-level statement, no newline at the end.
TRICKY = '''#!/usr/bin/env python
# A header comment.

"""Module docstring."""
from __future__ import annotations
import torch
import torch.nn as nn
a = 1; b = 2
total = a + \\
    b


@staticmethod
def helper(x):
    return x
    # trailing comment at the function's level

# a comment at column 0
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(16)
        text = """
class NotAClass:
    pass
"""

    def forward(self, x):
        return self.bn(self.conv(x))
  # a comment indented less than the body


if a:
    c = 1
else:
    c = 2
net = Net()
y = net(torch.randn(1, 3, 32, 32))
z = (1,
     2)'''

SNIPPETS = ["\n", " ", "    ", "\t", "#", "# note\n", "(", ")", ":", '"""', "'", "\\", "\\\n", "x", "1", ",", ";",
            "@helper\n", "=", "pass\n", "\n\n", "    # indented comment\n", "class Extra:\n    y = 1\n",
            "def g():\n  return 2\n", "if True:\n    pass\nelse:\n    w = 2\n", "\r\n",
            "        self.extra = nn.Conv2d(8, 4, 3)\n", "nn.Conv2d(3, 8, 5)", "16", "32"]


def _random_edit(text: str, rng: random.Random) -> str:
    edited = _edit(text, rng)
    # A lone carriage return makes every later version a whole parse (see the test of doubtful
    # texts); editors do not leave them behind, deletions across a CRLF here would.
    return re.sub("\r(?!\n)", "", edited)


def _edit(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True)
    kind = rng.random()
    if kind < 0.45 or not text:
        at = rng.randrange(len(text) + 1)
        if rng.random() < 0.3 and lines:  # at the start of a line
            at = sum(len(line) for line in lines[:rng.randrange(len(lines))])
        return text[:at] + rng.choice(SNIPPETS) + text[at:]
    if kind < 0.7:
        at = rng.randrange(len(text))
        return text[:at] + text[at + rng.randint(1, 20):]
    index = rng.randrange(len(lines))
    if kind < 0.8:
        return "".join(lines[:index] + lines[index + 1:])
    if kind < 0.9:
        return "".join(lines[:index + 1] + [lines[index]] + lines[index + 1:])
    other = rng.randrange(len(lines))
    lines[index], lines[other] = lines[other], lines[index]
    return "".join(lines)


def _nodes(module: cst.Module) -> list:
    found = []

    class Collect(cst.CSTVisitor):
        def on_visit(self, node):
            found.append(node)
            return True

    module.visit(Collect())
    return found


def assert_same_as_whole_parse(text: str, parsed, positions) -> None:
    expected = parse_source(text)
    if isinstance(expected, ParseFailure):
        assert parsed == expected
        return
    assert isinstance(parsed, cst.Module), parsed
    assert parsed.deep_equals(expected)
    code = parsed.code
    assert code == expected.code
    # LibCST itself does not reproduce a backslash continuation inside an indent; all else it does.
    assert code == text or "\\\n" in text
    reference = MetadataWrapper(expected, unsafe_skip_copy=True).resolve(PositionProvider)
    for mine, theirs in zip(_nodes(parsed), _nodes(expected)):
        pos = reference[theirs]
        span = positions.span(mine)
        assert (span.line, span.column, span.end_line, span.end_column) == \
            (pos.start.line, pos.start.column + 1, pos.end.line, pos.end.column + 1), type(mine).__name__


BASES = {
    "tricky": TRICKY,
    "tricky-crlf": TRICKY.replace("\n", "\r\n"),
    "tabs": TRICKY.replace("    ", "\t"),
    "resnet": (FIXTURES / "torch" / "bug_resnet_shortcut.py").read_text(),
    "unet": (FIXTURES / "torch" / "bug_unet_crop_cat.py").read_text(),
    "keras": (FIXTURES / "keras" / "bug_helper_channels_add.py").read_text(),
}


@pytest.mark.parametrize("name", sorted(BASES))
def test_random_edits_match_a_whole_parse(name):
    rng = random.Random(f"shapelint-{name}")
    parser = IncrementalParser()
    text = good = BASES[name]
    incremental = valid = 0
    for _ in range(70):
        parsed, positions = parser.parse_with_positions(text)
        assert_same_as_whole_parse(text, parsed, positions)
        if isinstance(parsed, cst.Module):
            good, valid = text, valid + 1
            incremental += not parser.whole
            text = _random_edit(text, rng)
        else:
            # An editor's user fixes a syntax error soon: back to the last text that parsed, often.
            text = good if rng.random() < 0.5 else _random_edit(text, rng)
    assert valid >= 20
    assert incremental >= valid // 3, f"only {incremental} of {valid} parses were incremental"


@pytest.mark.parametrize("name", ["resnet", "unet", "keras"])
def test_diagnostics_match_a_whole_parse(name):
    rng = random.Random(f"diagnostics-{name}")
    parser = IncrementalParser()
    text = BASES[name]
    seen_findings = 0
    for _ in range(25):
        mine = lint_source(text, f"{name}.py", want_models=True, parser=parser)
        fresh = lint_source(text, f"{name}.py", want_models=True)
        assert [d.to_json() for d in mine.diagnostics] == [d.to_json() for d in fresh.diagnostics]
        if mine.positions is not None:
            sites = [node.call_site for model in fresh.models for node in model.nodes if node.call_site is not None]
            my_sites = [node.call_site for model in mine.models for node in model.nodes if node.call_site is not None]
            assert [mine.positions.span(s) for s in my_sites] == [fresh.positions.span(s) for s in sites]
        seen_findings += len(fresh.diagnostics)
        edited = _random_edit(text, rng)
        if not isinstance(parse_source(edited), ParseFailure) or rng.random() < 0.3:
            text = edited
    assert seen_findings > 0


def test_an_edit_in_one_class_reparses_only_that_class():
    blocks = "".join(f"class Block{i}:\n    def __init__(self):\n        self.size = {i}\n\n\n" for i in range(10))
    text = "import torch\n\n\n" + blocks
    parser = IncrementalParser()
    before = parser.parse(text)
    assert parser.whole  # the first version is parsed whole, then cut into chunks
    edited = text.replace("self.size = 5", "self.size = 50")
    after, positions = parser.parse_with_positions(edited)
    assert not parser.whole and parser.parsed == 1 and parser.reused == 10
    assert after.code == edited and after.deep_equals(cst.parse_module(edited))
    for old, new in zip(before.body, after.body):
        assert (old is new) == (new.name.value != "Block5" if isinstance(new, cst.ClassDef) else True)
    # Lines inserted above a reused statement move its positions.
    shifted = edited.replace("import torch\n", "import torch\n\n# two more lines\n")
    moved, moved_positions = parser.parse_with_positions(shifted)
    assert not parser.whole and moved.body[-1] is after.body[-1]
    assert moved_positions.span(moved.body[-1]).line == positions.span(after.body[-1]).line + 2
    assert_same_as_whole_parse(shifted, moved, moved_positions)


def test_syntax_errors_are_reported_like_a_whole_parse_and_the_fix_is_incremental():
    text = "import torch\n\n\nclass A:\n    x = 1\n\n\nclass B:\n    y = 2\n"
    parser = IncrementalParser()
    parser.parse(text)
    broken = text.replace("y = 2", "y = (2")
    failure = parser.parse(broken)
    assert isinstance(failure, ParseFailure) and failure == parse_source(broken)
    fixed = text.replace("y = 2", "y = (2)")
    assert parser.parse(fixed).deep_equals(cst.parse_module(fixed)) and not parser.whole


@pytest.mark.parametrize("edited", [
    # the first indented block sets the module's default indent: two spaces now, four elsewhere
    "import torch\n\n\nclass A:\n  x = 1\n\n\nclass B:\n    y = 2\n",
    # print_function changed the grammar of LibCST's pure-Python parser: parse the whole text
    "from __future__ import print_function\n\n\nclass A:\n    x = 1\n\n\nclass B:\n    y = 2\n",
    # a lone carriage return is a newline for ast, not for LibCST's line splitting
    "import torch\n\n\nclass A:\n    x = 1\r\n\nclass B:\n    y = 2\n",
    # a comment indented at the class body's level after its last statement belongs to the class
    "import torch\n\n\nclass A:\n    x = 1\n    # still A\n\nclass B:\n    y = 2\n",
    # an encoding declaration: the text is already decoded, the module's encoding is utf-8 either way
    "# -*- coding: latin-1 -*-\nimport torch\n\n\nclass A:\n    x = 1\n\n\nclass B:\n    y = 2\n",
    # mixed newlines: the module's default is the first one
    "import torch\r\n\n\nclass A:\n    x = 1\n\n\nclass B:\r\n    y = 2\n",
])
def test_doubtful_texts_match_a_whole_parse(edited):
    parser = IncrementalParser()
    parser.parse("import torch\n\n\nclass A:\n    x = 1\n\n\nclass B:\n    y = 2\n")
    parsed, positions = parser.parse_with_positions(edited)
    assert_same_as_whole_parse(edited, parsed, positions)


@pytest.mark.parametrize("name", ["tricky", "tricky-crlf", "resnet"])
def test_whole_module_positions_are_position_providers(name):
    """Without a layout (the command line), positions come from the same codegen state as
    LibCST's PositionProvider, minus MetadataWrapper's extra visit: the same table."""
    from shapelint.parse import position_table

    module = cst.parse_module(BASES[name])
    reference = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    table, _ = position_table((module,), module.default_indent, module.default_newline)
    assert table == dict(reference)
