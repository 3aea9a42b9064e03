"""``[tool.shapelint]`` discovery (nearest pyproject.toml upward) and merging with the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

KEYS = {"select", "ignore", "extend-select", "per-file-ignores", "exclude", "inputs", "fail-on", "respect-gitignore",
        "force-exclude", "output-format", "python"}
OUTPUT_FORMATS = ("full", "concise", "text", "json", "github", "sarif", "gitlab")
SEVERITIES = ("info", "warning", "error")


class ConfigError(Exception):
    pass


@dataclass
class Config:
    path: Path | None = None
    root: Path | None = None
    select: tuple = ()
    ignore: tuple = ()
    extend_select: tuple = ()
    per_file_ignores: dict = field(default_factory=dict)
    exclude: tuple = ()
    inputs: dict = field(default_factory=dict)
    fail_on: str | None = None
    respect_gitignore: bool = True
    force_exclude: bool = False
    output_format: str | None = None
    python: str | None = None  # the project's interpreter: imports are read from its site-packages


def _load_toml(path: Path) -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from error


def find_pyproject(start: Path) -> Path | None:
    start = start.resolve()
    for directory in [start] + list(start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def unknown_selector(selector: str) -> bool:
    """A code or prefix that selects no rule shapelint has (checked against the live registry)."""
    from shapelint.rules import RULES

    return not selector or not any(code.startswith(selector) for code in RULES)


def known_rules_hint() -> str:
    from shapelint.rules import RULES

    return f"known rules: {', '.join(sorted(RULES))}; a prefix such as SL1 selects a group"


def _codes(path, key, value) -> tuple:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: [tool.shapelint] {key} must be a list of rule codes or prefixes")
    codes = tuple(v.strip().upper() for v in value)
    for code in codes:
        if unknown_selector(code):
            raise ConfigError(f"{path}: [tool.shapelint] {key}: unknown rule code or prefix {code!r} "
                              f"({known_rules_hint()})")
    return codes


def load(start: Path) -> Config:
    """The [tool.shapelint] table of the nearest pyproject.toml at or above ``start``."""
    path = find_pyproject(start if start.is_dir() else start.parent)
    if path is None:
        return Config()
    table = _load_toml(path).get("tool", {}).get("shapelint")
    if table is None:
        return Config()
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.shapelint] must be a table")
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown key [tool.shapelint] {unknown[0]!r} (known: {', '.join(sorted(KEYS))})")
    config = Config(path=path, root=path.parent)
    config.select = _codes(path, "select", table["select"]) if "select" in table else ()
    config.ignore = _codes(path, "ignore", table["ignore"]) if "ignore" in table else ()
    config.extend_select = _codes(path, "extend-select", table["extend-select"]) if "extend-select" in table else ()
    pfi = table.get("per-file-ignores", {})
    if not isinstance(pfi, dict):
        raise ConfigError(f"{path}: [tool.shapelint] per-file-ignores must be a table of pattern = [codes]")
    config.per_file_ignores = {k: _codes(path, f"per-file-ignores.{k!r}", v) for k, v in pfi.items()}
    exclude = table.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(v, str) for v in exclude):
        raise ConfigError(f"{path}: [tool.shapelint] exclude must be a list of glob patterns")
    config.exclude = tuple(exclude)
    inputs = table.get("inputs", {})
    if not isinstance(inputs, dict):
        raise ConfigError(f"{path}: [tool.shapelint] inputs must be a table of \"file.py:Model\" = [dims]")
    for key, shape in inputs.items():
        if not isinstance(shape, list) or not shape or not all(isinstance(d, int) and d > 0 for d in shape):
            raise ConfigError(f"{path}: [tool.shapelint] inputs.{key!r} must be a list of positive integers")
        config.inputs[key] = tuple(shape)
    if "python" in table:
        if not isinstance(table["python"], str) or not table["python"]:
            raise ConfigError(f"{path}: [tool.shapelint] python must be the path of a Python interpreter")
        config.python = str((path.parent / table["python"]).absolute()) if not Path(table["python"]).is_absolute() \
            else table["python"]
    if "fail-on" in table:
        if table["fail-on"] not in SEVERITIES:
            raise ConfigError(f"{path}: [tool.shapelint] fail-on must be one of {', '.join(SEVERITIES)}")
        config.fail_on = table["fail-on"]
    for key in ("respect-gitignore", "force-exclude"):
        if key in table:
            if not isinstance(table[key], bool):
                raise ConfigError(f"{path}: [tool.shapelint] {key} must be true or false")
            setattr(config, key.replace("-", "_"), table[key])
    if "output-format" in table:
        if table["output-format"] not in OUTPUT_FORMATS:
            raise ConfigError(f"{path}: [tool.shapelint] output-format must be one of {', '.join(OUTPUT_FORMATS)}")
        config.output_format = table["output-format"]
    return config
