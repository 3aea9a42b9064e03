"""Command line: check, shapes, rule, rules, lsp."""

from __future__ import annotations

import json
import sys

import click

from shapelint import __version__

EXIT_FINDINGS = 1
EXIT_ERROR = 2
SEVERITY_ORDER = {"info": 0, "warning": 1, "error": 2}


def _codes(value: str | None) -> tuple:
    if not value:
        return ()
    return tuple(v.strip().upper() for v in value.replace(" ", ",").split(",") if v.strip())


def _parse_input_shapes(values) -> dict:
    from shapelint.frontends.base import parse_shape

    inputs = {}
    for value in values:
        key, _, shape_text = value.rpartition("=")
        shape = parse_shape(shape_text)
        if shape is None:
            raise click.BadParameter(f"cannot read a shape from {value!r} (use NAME=1,3,32,32 or 1x3x32x32)",
                                     param_hint="--input-shape")
        inputs[key or "*"] = shape
    return inputs


class _Group(click.Group):
    def main(self, *args, **kwargs):
        try:
            kwargs["standalone_mode"] = False
            return super().main(*args, **kwargs)
        except click.exceptions.Exit as exit_:
            sys.exit(exit_.exit_code)
        except click.ClickException as error:
            error.show()
            sys.exit(EXIT_ERROR)
        except click.Abort:
            sys.exit(EXIT_ERROR)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="shapelint")
def cli():
    """Find tensor-shape bugs in model code without running it."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "output_format", type=click.Choice(["text", "json", "github", "sarif", "gitlab"]),
              default="text")
@click.option("--select", help="Rule codes or prefixes to enable (replaces the defaults).")
@click.option("--ignore", help="Rule codes or prefixes to disable.")
@click.option("--extend-select", help="Rule codes or prefixes to enable in addition to the defaults.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings are reported.")
@click.option("--input-shape", "input_shapes", multiple=True,
              help="Input shape for a model: NAME=1,3,32,32 (or PATH:NAME=...; a bare shape applies to all).")
@click.option("--exclude", multiple=True, help="Glob patterns of paths to skip.")
@click.option("--fail-on", type=click.Choice(["info", "warning", "error"]), default=None,
              help="Lowest severity that makes the exit code 1 (default: warning).")
@click.option("--show-settings", is_flag=True, help="Print the resolved settings and exit.")
@click.option("--output-file", type=click.Path(dir_okay=False), help="Write the report here instead of stdout.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes (default: all cores).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the result cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
              help="Where cached results live (default: ~/.cache/shapelint/results).")
@click.option("--confirm", is_flag=True,
              help="Run each model with an error finding (in a child process; this executes your code) "
                   "to confirm or refute the finding.")
@click.option("--confirm-timeout", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True,
              help="Seconds one model may run under --confirm before it is killed.")
@click.option("--python", "python", type=click.Path(exists=True), default=None,
              help="The project's Python (or its environment's directory): imported packages are read from "
                   "its site-packages (default: shapelint's own).")
@click.option("--show-unchecked", is_flag=True,
              help="List each layer whose shape stayed unknown, with the first construct that stopped the analysis.")
def check(paths, output_format, select, ignore, extend_select, exit_zero, input_shapes, exclude, fail_on,
          show_settings, output_file, jobs, no_cache, cache_dir, confirm, confirm_timeout, python, show_unchecked):
    """Lint PATHS (files or directories; default: the current directory)."""
    import os
    from pathlib import Path

    from shapelint import config as configuration
    from shapelint.api import Settings, collect_files
    from shapelint.report import FORMATS
    from shapelint.runner import default_cache_dir, lint_files

    for path in paths:
        if not os.path.exists(path):
            click.echo(f"shapelint: error: {path}: no such file or directory", err=True)
            sys.exit(EXIT_ERROR)
    try:
        conf = configuration.load(Path(paths[0]) if paths else Path.cwd())
    except configuration.ConfigError as error:
        click.echo(f"shapelint: error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    settings = Settings(select=_codes(select) or conf.select, ignore=conf.ignore + _codes(ignore),
                        extend_select=conf.extend_select + _codes(extend_select),
                        inputs={**conf.inputs, **_parse_input_shapes(input_shapes)},
                        per_file_ignores=conf.per_file_ignores, root=str(conf.root) if conf.root else None,
                        python=python or conf.python, show_unchecked=show_unchecked)
    fail_on = fail_on or conf.fail_on or "warning"
    exclude = conf.exclude + tuple(exclude)
    if show_settings:
        from shapelint.rules import RULES

        click.echo(f"config file: {conf.path or '(none)'}")
        click.echo(f"enabled rules: {', '.join(c for c in sorted(RULES) if settings.enabled(c))}")
        click.echo(f"per-file-ignores: {dict(settings.per_file_ignores)}")
        click.echo(f"exclude: {list(exclude)}")
        click.echo(f"inputs: {dict(settings.inputs)}")
        click.echo(f"fail-on: {fail_on}")
        return
    files = collect_files(paths or (".",), exclude)
    cache = None if no_cache else Path(cache_dir) if cache_dir else default_cache_dir()
    coverage: list = []
    diagnostics = [d for per_file in lint_files(files, settings, jobs, cache, coverage) for d in per_file]
    if confirm:
        from shapelint.confirm import confirm_diagnostics

        confirm_diagnostics(diagnostics, settings, confirm_timeout)
    report = FORMATS[output_format](diagnostics)
    if output_file:
        with open(output_file, "w", encoding="utf-8") as handle:
            handle.write(report)
    else:
        click.echo(report, nl=False)
    if output_format == "text" and not output_file:
        count = len(diagnostics)
        checked = f"{len(files)} file{'s' if len(files) != 1 else ''}"
        summary = f"Found {count} finding{'s' if count != 1 else ''} in {checked}."
        click.echo(summary if count else f"All checks passed ({checked}).", err=True)
        _echo_coverage(coverage, show_unchecked)
    threshold = SEVERITY_ORDER[fail_on]
    failing = [d for d in diagnostics if SEVERITY_ORDER.get(d.severity, 2) >= threshold]
    if failing and not exit_zero:
        sys.exit(EXIT_FINDINGS)


def _echo_coverage(coverage: list, show_unchecked: bool) -> None:
    import os

    """What was checked: ``12 models, 148 of 160 layers with known shapes`` (each file's own layers,
    as its models saw them); with ``--show-unchecked``, every layer is counted once, wherever its
    shape became known (a block class checked through the model of another file), and each layer
    that was not is listed with the first construct that stopped the analysis."""
    from shapelint.coverage import Coverage

    total = Coverage()
    layers: dict = {}
    for entry in coverage:
        if entry:
            total.add(Coverage(entry.get("models", 0), entry.get("layers", 0), entry.get("known", 0)))
            for path, line, column, name, ok, reason in entry.get("unchecked", []):
                key = (os.path.normpath(path), line, column)
                if key not in layers or (ok and not layers[key][4]):
                    layers[key] = (path, line, column, name, ok, reason)
    if show_unchecked:
        total.layers, total.known = len(layers), sum(1 for layer in layers.values() if layer[4])
        for path, line, column, name, ok, reason in sorted(layers.values(), key=lambda l: (l[0], l[1], l[2])):
            if not ok:
                click.echo(f"{path}:{line}:{column}: unchecked {name}: {reason}")
    click.echo(f"Checked {total.summary()}.", err=True)


@cli.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--input-shape", "input_shapes", multiple=True, help="Input shape: NAME=1,3,32,32.")
@click.option("--trace", is_flag=True,
              help="Also run each model (in a child process; this executes your code) and show the runtime "
                   "shapes next to the static ones; disagreements are marked !=.")
def shapes(path, output_format, input_shapes, trace):
    """Print each model's layers with their inferred input and output shapes."""
    if trace:
        from shapelint.api import Settings
        from shapelint.confirm.trace import render, trace as run_trace

        models = run_trace(path, Settings(inputs=_parse_input_shapes(input_shapes)))
        click.echo(json.dumps(models, indent=2) if output_format == "json" else render(models), nl=output_format == "json")
        return
    from shapelint.api import Settings, lint_file
    from shapelint.shapes.dims import format_shape, json_shape

    result = lint_file(path, Settings(inputs=_parse_input_shapes(input_shapes)), want_models=True)
    span = result.positions.span if result.positions else None
    out = []
    for model in result.models:
        layers = []
        for node in model.nodes:
            if not node.inputs:
                continue
            where = span(node.call_site)
            layers.append({"line": where.line, "column": where.column, "op": node.name,
                           "input_shape": json_shape(node.inputs[0]), "output_shape": json_shape(node.output)})
        entry = {"path": path, "model": model.name, "framework": model.framework,
                 "input": json_shape(model.input), "input_source": model.input_source, "layers": layers}
        if model.input:
            from shapelint.shapes.solve import accepts_for

            accepts = accepts_for(model)
            if accepts is not None:
                entry["accepts"] = accepts
        out.append(entry)
    if output_format == "json":
        click.echo(json.dumps(out, indent=2))
        return
    for d in result.diagnostics:
        if d.code == "SL000":
            click.echo(f"{d.path}:{d.line}:{d.column}: {d.code} {d.message}")
    for model, data in zip(result.models, out):
        click.echo(f"{path}: {model.name} ({model.framework}), input {format_shape(model.input)} "
                   f"[{model.input_source}]")
        solution = getattr(model, "solution", None)
        if "accepts" in data and solution is not None:
            from shapelint.shapes.solve import describe_accepted

            sizes = "; ".join(f"{s} in {describe_accepted(v)}" for s, v in solution.accepted.items())
            click.echo(f"  accepts (square inputs where sizes are coupled): {sizes}")
        for node in model.nodes:
            if not node.inputs:
                continue
            where = span(node.call_site)
            click.echo(f"  line {where.line:>4}  {node.name:<20} {format_shape(node.inputs[0]):>22} -> "
                       f"{format_shape(node.output)}")


@cli.command()
@click.argument("code")
def rule(code):
    """Show the documentation of one rule."""
    from shapelint.catalogue import rule_doc

    doc = rule_doc(code)
    if doc is None:
        click.echo(f"shapelint: error: unknown rule {code!r}", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(doc, nl=not doc.endswith("\n"))


@cli.command("rules")
def list_rules():
    """List every rule code with its severity and summary."""
    from shapelint.rules import RULES

    for code, r in sorted(RULES.items()):
        default = "" if r.default else " (off by default)"
        click.echo(f"{code}  {r.name:<26} {r.severity:<8} {r.summary}{default}")


@cli.command()
def lsp():
    """Run the language server over stdio.

    Needs the `lsp` extra: pip install 'shapelint[lsp]'.
    """
    try:
        import pygls  # noqa: F401
    except ImportError:
        click.echo("shapelint: error: the language server needs pygls: pip install 'shapelint[lsp]'", err=True)
        sys.exit(EXIT_ERROR)
    from shapelint.lsp import serve

    serve()


def main():
    cli()


if __name__ == "__main__":
    main()
