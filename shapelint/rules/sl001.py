"""SL001 analysis-budget-exhausted: the analysis of a model stopped at its work budget."""

from shapelint.rules.base import Rule

RULE = Rule("SL001", "analysis-budget-exhausted", "info",
            "Analysis stopped at its work budget; findings after that point may be missing")
