"""SL002 unused-suppression: a ``# noqa: SLxxx`` that suppresses nothing on a fully analysed line.

The check itself runs where suppressions are applied (``shapelint/suppress.py``); it needs the
findings before suppression and the source's comments, which rules never see."""

from shapelint.rules.base import Rule

RULE = Rule("SL002", "unused-suppression", "warning",
            "A suppression comment names a rule that reports nothing on its line", default=False)
