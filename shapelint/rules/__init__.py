"""The rule registry: one module per code; findings from an analysed model."""

from __future__ import annotations

from shapelint.rules import (
    sl000, sl001, sl002, sl101, sl102, sl103, sl104, sl105, sl106, sl201, sl202, sl203, sl204, sl301, sl302,
    sl303, sl304, sl305, sl306, sl307,
)
from shapelint.rules import symbolic
from shapelint.rules.base import Rule, findings_for

RULES: dict[str, Rule] = {m.RULE.code: m.RULE for m in (sl000, sl001, sl002, sl101, sl102, sl103, sl104, sl105, sl106,
                                                          sl201, sl202, sl203, sl204, sl301, sl302, sl303, sl304,
                                                          sl305, sl306, sl307)}


def model_findings(model) -> list:
    found = []
    for node in model.nodes:
        if node.speculative or not node.problems:
            continue
        for rule in RULES.values():
            if rule.kinds:
                found.extend(findings_for(rule, node))
    for rule in RULES.values():
        if rule.check_model is not None:
            found.extend(rule.check_model(model))
    found.extend(symbolic.findings(model))
    return found


def findings_of(models) -> list:
    """Every model's findings.  A layer re-checked at the sizes some call fed its model
    (``Node.fed_from``) is not reported again there when the layer has an error of its own
    (the input-size solver found that no size fits it)."""
    found = [finding for model in models for finding in model_findings(model)]
    flagged = {id(f.node) for f in found
               if f.node is not None and f.node.fed_from is None and RULES[f.code].severity == "error"}
    return [f for f in found if f.node is None or f.node.fed_from is None or id(f.node.fed_from) not in flagged]
