"""Where models come from in a torch file that never runs them: classes and factory functions."""

import textwrap

import pytest
import torch

from shapelint.api import lint_source

FACTORY = textwrap.dedent("""\
    import torch.nn as nn


    class Block(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, 3, padding=1)

        def forward(self, x):
            return self.conv(x)


    class Net(nn.Module):
        def __init__(self, widths, num_classes=10):
            super().__init__()
            layers, cin = [], 3
            for w in widths:
                layers.append(Block(cin, w))
                cin = w
            self.features = nn.Sequential(*layers)
            self.head = nn.Conv2d(WIDTH_BUG, num_classes, 1)

        def forward(self, x):
            return self.head(self.features(x))


    def small_net(**kwargs):
        return Net([16, 32], **kwargs)
""")


@pytest.mark.parametrize("head_in, bug", [(32, False), (16, True)])
def test_a_model_built_by_a_factory_function_is_analysed(head_in, bug):
    source = FACTORY.replace("WIDTH_BUG", str(head_in))
    result = lint_source(source, "factory.py", want_models=True)
    assert "small_net" in [m.name for m in result.models]
    assert "Block" not in [m.name for m in result.models]  # a component, analysed inside Net
    found = [(d.code, d.line) for d in result.diagnostics]
    assert found == ([("SL101", 21)] if bug else [])
    namespace = {}
    exec(compile(source, "factory.py", "exec"), namespace)
    try:
        namespace["small_net"]()(torch.randn(1, 3, 8, 8))
        raised = False
    except RuntimeError:
        raised = True
    assert raised == bug


def test_a_deep_copy_knows_only_what_its_original_knew():
    """``copy.deepcopy`` of a block plan gives its values (EfficientNet-style configurations),
    but a list grown by something unknown stays unknown in the copy, never a shorter known list."""
    from shapelint.api import lint_source

    head = "import copy\nimport torch\nimport torch.nn as nn\nfrom elsewhere import more\n\nplan = [8, 16]\n"
    tail = ("plan = copy.deepcopy(plan)\nc = 3\nconvs = []\nfor w in plan:\n"
            "    convs.append(nn.Conv2d(c, w, 3))\n    c = w\n"
            "net = nn.Sequential(*convs)\nhead = nn.Conv2d(8, 4, 1)\ny = head(net(torch.randn(1, 3, 32, 32)))\n")
    known = lint_source(head + tail, "m.py")
    assert [(d.line, d.code) for d in known.diagnostics] == [(14, "SL101")]  # 16 channels reach Conv2d(8, ...)
    grown = lint_source(head + "plan.extend(more)\n" + tail, "m.py")
    assert grown.diagnostics == []
