"""Command line: check, shapes, rule, rules, lsp."""

from __future__ import annotations

import json
import re
import sys

import click

from shapelint import __version__

EXIT_FINDINGS = 1
EXIT_ERROR = 2
SEVERITY_ORDER = {"info": 0, "warning": 1, "error": 2}


def _codes(values, option: str) -> tuple:
    """Codes and prefixes from a repeatable option (each value may hold several, comma-separated);
    one that selects no known rule is a usage error."""
    from shapelint.config import known_rules_hint, unknown_selector

    if isinstance(values, str):
        values = (values,)
    codes = tuple(v.strip().upper() for value in values or () for v in value.replace(" ", ",").split(",")
                  if v.strip())
    for code in codes:
        if unknown_selector(code):
            raise click.BadParameter(f"unknown rule code or prefix {code!r} ({known_rules_hint()})",
                                     param_hint=option)
    return codes


SHAPE_TEXT = re.compile(r"[\[(]?\s*(\d+(?:\s*,\s*\d+)*)\s*,?\s*[\])]?|(\d+(?:\s*[xX]\s*\d+)*)")
MODEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _parse_input_shapes(values) -> dict:
    """``NAME=1,3,32,32``, ``PATH:NAME=1x3x32x32`` or a bare shape (every model): key -> dims.
    Anything else, a dim that is not a positive integer included, is a usage error."""
    inputs = {}
    for value in values:
        key, _, shape_text = value.rpartition("=")
        key = key.strip()
        match = SHAPE_TEXT.fullmatch(shape_text.strip())
        shape = tuple(int(d) for d in re.split(r"[,xX]", match.group(1) or match.group(2))) if match else ()
        if not shape or not all(shape):
            raise click.BadParameter(f"cannot read a shape from {value!r}: dims must be positive integers "
                                     "(NAME=1,3,32,32 or NAME=1x3x32x32)", param_hint="--input-shape")
        name = key.rpartition(":")[2]
        if key and not MODEL_NAME.fullmatch(name):
            raise click.BadParameter(f"{value!r}: {name!r} is not a model name (a class, variable or function "
                                     "name; PATH:NAME=... for one file)", param_hint="--input-shape")
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
        except Exception as error:  # noqa: BLE001 - a crash is an internal error: exit 2, one line
            click.echo(f"shapelint: internal error: {type(error).__name__}: {error}", err=True)
            sys.exit(EXIT_ERROR)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="shapelint")
def cli():
    """Find tensor-shape bugs in model code without running it."""


TEXT_FORMATS = ("text", "full", "concise")
OUTPUT_FORMATS = TEXT_FORMATS + ("json", "github", "sarif", "gitlab")
PROGRESS_AFTER_SECONDS = 1.0


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--output-format", "--format", "output_format", type=click.Choice(OUTPUT_FORMATS), default=None,
              help="full: each finding with its source line (the default on a terminal); concise: one line per "
                   "finding, path:line:col: CODE message (the default when piped); text: the default of the two; "
                   "or json, github, sarif, gitlab.")
@click.option("--select", multiple=True, help="Rule codes or prefixes to enable (replaces the defaults); repeatable.")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable; repeatable.")
@click.option("--extend-select", multiple=True,
              help="Rule codes or prefixes to enable in addition to the defaults; repeatable.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings are reported.")
@click.option("--input-shape", "input_shapes", multiple=True,
              help="Input shape for a model: NAME=1,3,32,32 (or PATH:NAME=...; a bare shape applies to all).")
@click.option("--exclude", multiple=True, help="Glob patterns of paths to skip; repeatable.")
@click.option("--force-exclude/--no-force-exclude", default=None,
              help="Apply exclude (and .gitignore) to paths given by name too, as pre-commit and editors pass them.")
@click.option("--respect-gitignore/--no-respect-gitignore", default=None,
              help="Skip files git ignores (.gitignore, .git/info/exclude); on by default.")
@click.option("--stdin-filename", default=None,
              help="With PATH '-': the name of the file read from standard input (for configuration, "
                   "exclude and messages).")
@click.option("--fail-on", type=click.Choice(["info", "warning", "error"]), default=None,
              help="Lowest severity that makes the exit code 1 (default: warning).")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of the findings.")
@click.option("--quiet", "-q", is_flag=True, help="Print the findings and nothing else (no summary, no progress).")
@click.option("--silent", is_flag=True, help="Print nothing; the exit code still tells.")
@click.option("--add-noqa", is_flag=True,
              help="Add '# noqa: CODE' to every line with a finding (writes the files), then exit 0.")
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
@click.option("--fix", "apply_fixes", is_flag=True, help="Apply the fixes that prove themselves (safe ones only, "
              "unless --unsafe-fixes) and write the files.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes that choose between meanings (sizes of layers).")
@click.option("--diff", "show_diff", is_flag=True,
              help="Print what --fix would change as a diff and write nothing; exit 1 when there is a change.")
@click.option("--python", "python", type=click.Path(exists=True), default=None,
              help="The project's Python (or its environment's directory): imported packages are read from "
                   "its site-packages (default: shapelint's own).")
@click.option("--show-unchecked", is_flag=True,
              help="Say how many layers got known shapes, and list each layer whose shape stayed unknown with the "
                   "first construct that stopped the analysis.")
def check(paths, output_format, select, ignore, extend_select, exit_zero, input_shapes, exclude, force_exclude,
          respect_gitignore, stdin_filename, fail_on, statistics, quiet, silent, add_noqa, show_settings,
          output_file, jobs, no_cache, cache_dir, confirm, confirm_timeout, apply_fixes, unsafe_fixes, show_diff,
          python, show_unchecked):
    """Lint PATHS (files or directories; default: the current directory; '-' reads standard input)."""
    import os
    from pathlib import Path

    from shapelint import config as configuration
    from shapelint.api import Settings, collect_files, is_internal_error

    from_stdin = "-" in paths
    if from_stdin and len(paths) > 1:
        raise click.BadParameter("'-' (standard input) cannot be combined with other paths", param_hint="PATHS")
    if stdin_filename and not from_stdin:
        if paths:
            raise click.BadParameter("only with PATH '-' (standard input)", param_hint="--stdin-filename")
        from_stdin, paths = True, ("-",)
    for path in paths:
        if path != "-" and not os.path.exists(path):
            click.echo(f"shapelint: error: {path}: no such file or directory", err=True)
            sys.exit(EXIT_ERROR)
    if from_stdin and add_noqa:
        raise click.BadParameter("cannot add noqa comments to standard input", param_hint="--add-noqa")
    if from_stdin and (apply_fixes or show_diff):
        raise click.BadParameter("cannot fix standard input", param_hint="--fix" if apply_fixes else "--diff")
    try:
        start = Path(stdin_filename or ".") if from_stdin else Path(paths[0]) if paths else Path.cwd()
        conf = configuration.load(start.absolute())
    except configuration.ConfigError as error:
        click.echo(f"shapelint: error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    cli_inputs = _parse_input_shapes(input_shapes)
    settings = Settings(select=_codes(select, "--select") or conf.select,
                        ignore=conf.ignore + _codes(ignore, "--ignore"),
                        extend_select=conf.extend_select + _codes(extend_select, "--extend-select"),
                        inputs={**conf.inputs, **cli_inputs},
                        per_file_ignores=conf.per_file_ignores, root=str(conf.root) if conf.root else None,
                        python=python or conf.python, show_unchecked=show_unchecked)
    fail_on = fail_on or conf.fail_on or "warning"
    exclude = conf.exclude + tuple(exclude)
    force_exclude = conf.force_exclude if force_exclude is None else force_exclude
    respect_gitignore = conf.respect_gitignore if respect_gitignore is None else respect_gitignore
    if show_settings:
        from shapelint.rules import RULES

        click.echo(f"config file: {conf.path or '(none)'}")
        click.echo(f"enabled rules: {', '.join(c for c in sorted(RULES) if settings.enabled(c))}")
        click.echo(f"per-file-ignores: {dict(settings.per_file_ignores)}")
        click.echo(f"exclude: {list(exclude)}")
        click.echo(f"force-exclude: {str(force_exclude).lower()}")
        click.echo(f"respect-gitignore: {str(respect_gitignore).lower()}")
        click.echo(f"inputs: {dict(settings.inputs)}")
        click.echo(f"fail-on: {fail_on}")
        click.echo(f"output-format: {output_format or conf.output_format or 'full on a terminal, else concise'}")
        return
    sources = {}
    coverage: list = []
    if from_stdin:
        files, outcomes = _lint_stdin(stdin_filename, settings, exclude, force_exclude, respect_gitignore, conf,
                                      sources)
    else:
        root = str(conf.root) if conf.root else None
        files = collect_files(paths or (".",), exclude, respect_gitignore, force_exclude, root)
        outcomes = _lint_many(files, settings, jobs, no_cache, cache_dir, quiet or silent, coverage)
    diagnostics = [d for per_file, _ in outcomes for d in per_file]
    problems = _unknown_model_names(cli_inputs, conf, paths or (".",), files, outcomes)
    if problems:
        for problem in problems:
            click.echo(f"shapelint: error: {problem}", err=True)
        sys.exit(EXIT_ERROR)
    if add_noqa:
        _add_noqa(diagnostics, quiet or silent)
        return
    if apply_fixes or show_diff:
        diagnostics = _fix(files, [per_file for per_file, _ in outcomes], settings, unsafe_fixes, show_diff,
                           quiet or silent)
    if confirm:
        from shapelint.confirm import confirm_diagnostics

        confirm_diagnostics(diagnostics, settings, confirm_timeout)
    if not silent:
        _report(diagnostics, output_format or conf.output_format, output_file, statistics, sources)
    if output_format in (None, *TEXT_FORMATS) and not output_file and not (quiet or silent):
        click.echo(_summary(diagnostics, len(files)), err=True)
        _echo_coverage(coverage, show_unchecked)
        if not apply_fixes:
            from shapelint.fixer import fixable_hint

            hint = fixable_hint(diagnostics, unsafe_fixes)
            if hint:
                click.echo(hint, err=True)
    if any(is_internal_error(d) for d in diagnostics):
        sys.exit(EXIT_ERROR)  # reported above, with the file named
    threshold = SEVERITY_ORDER[fail_on]
    failing = [d for d in diagnostics if SEVERITY_ORDER.get(d.severity, 2) >= threshold]
    if failing and not exit_zero:
        sys.exit(EXIT_FINDINGS)


def _echo_coverage(coverage: list, show_unchecked: bool) -> None:
    """With ``--show-unchecked``: what was checked, ``12 models, 148 of 160 layers with known
    shapes``, every layer counted once, wherever its shape became known (a block class checked
    through the model of another file), and each layer that was not, with the first construct
    that stopped the analysis."""
    import os

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
    if not coverage or not show_unchecked:
        return  # the summary stays one line unless asked
    if show_unchecked:
        total.layers, total.known = len(layers), sum(1 for layer in layers.values() if layer[4])
        for path, line, column, name, ok, reason in sorted(layers.values(), key=lambda l: (l[0], l[1], l[2])):
            if not ok:
                click.echo(f"{path}:{line}:{column}: unchecked {name}: {reason}")
    click.echo(f"Checked {total.summary()}.", err=True)


def _lint_stdin(stdin_filename, settings, exclude, force_exclude, respect_gitignore, conf, sources):
    """Standard input linted as ``stdin_filename`` (or ``-``): ([name], [(diagnostics, model names)])."""
    from shapelint.api import MAX_FILE_BYTES, excluded, lint_file
    from shapelint.gitignore import GitIgnore

    data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)  # lint_file reports what is over the cap
    name = stdin_filename or "-"
    root = str(conf.root) if conf.root else None
    if stdin_filename and force_exclude and (excluded(name, exclude, root)
                                             or (respect_gitignore and GitIgnore().ignored(name))):
        return [], []
    sources[name] = data.decode("utf-8", "replace")
    result = lint_file(name, settings, data=data)
    return [name], [(result.diagnostics, (result.model_names, result.bound_names))]


def _lint_many(files, settings, jobs, no_cache, cache_dir, quiet, coverage=None):
    """(diagnostics, model names) per file; a progress line on a terminal's stderr when it takes a while."""
    import time
    from pathlib import Path

    from shapelint.runner import default_cache_dir, lint_files_detailed

    cache = None if no_cache else Path(cache_dir) if cache_dir else default_cache_dir()
    progress = None
    shown = []
    if not quiet and sys.stderr.isatty():
        started = time.monotonic()

        def progress(done, total):
            if done < total and time.monotonic() - started >= PROGRESS_AFTER_SECONDS:
                sys.stderr.write(f"\r\x1b[Kshapelint: {done}/{total} files checked")
                sys.stderr.flush()
                shown.append(True)

    outcomes = lint_files_detailed(files, settings, jobs, cache, progress, coverage)
    if shown:
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()
    return outcomes


def _unknown_model_names(cli_inputs, conf, paths, files, outcomes) -> list[str]:
    """Input shapes given for a model no linted file has.  A name from the command line must be
    found in this run; one from [tool.shapelint.inputs] only when its file was linted (or, for a
    name without a file, when the whole project was), since pre-commit lints a few files at a time."""
    import os

    from shapelint.api import Settings, inputs_for

    def where(key):
        return [i for i, path in enumerate(files) if inputs_for(Settings(inputs={key: ()}), path)]

    def known(indexes):
        names = sorted({n for i in indexes for n in outcomes[i][1][0]})
        shown = ", ".join(names[:30]) + (", ..." if len(names) > 30 else "")
        return f"models found: {shown}" if names else "no models found"

    everything = range(len(files))
    whole_project = conf.root is not None and any(
        os.path.isdir(p) and (os.path.abspath(p) == str(conf.root) or
                              str(conf.root).startswith(os.path.join(os.path.abspath(p), "")))
        for p in paths)
    problems = []
    checks = [("--input-shape", key, True) for key in cli_inputs]
    checks += [("[tool.shapelint.inputs]", key, False) for key in conf.inputs if key not in cli_inputs]
    for origin, key, required in checks:
        file_part, _, name = key.rpartition(":")
        if key == "*":
            continue
        if file_part:
            indexes = where(key)
            if not indexes:
                if required or whole_project:
                    problems.append(f"{origin} {key}: no linted file matches {file_part!r}")
                continue
        elif required or whole_project:
            indexes = list(everything)
        else:
            continue
        if not any(name in outcomes[i][1][0] or name in outcomes[i][1][1] for i in indexes):
            problems.append(f"{origin} {key}: no model named {name!r} in "
                            f"{file_part if file_part else 'the linted files'} ({known(indexes)})")
    return problems


def _add_noqa(diagnostics, quiet):
    from collections import defaultdict

    from shapelint.suppress import add_noqa

    per_file = defaultdict(list)
    for d in diagnostics:
        if d.cell is None and d.path != "-":
            per_file[d.path].append(d)
    added = 0
    for path, found in per_file.items():
        try:
            with open(path, "rb") as handle:
                original = handle.read().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        text, count = add_noqa(original, found)
        if count:
            with open(path, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            added += count
    skipped = sum(1 for d in diagnostics if d.cell is not None)
    if not quiet:
        note = f" ({skipped} finding{'s' if skipped != 1 else ''} in notebooks left as they are)" if skipped else ""
        click.echo(f"Added {added} noqa directive{'s' if added != 1 else ''}.{note}", err=True)


def _fix(files, per_files, settings, unsafe, show_diff, quiet) -> list:
    """--fix writes the fixed files and returns their findings; --diff prints what it would write
    and exits (1 when there is a change)."""
    from shapelint.fixer import fix_files

    per_files, fixed, diffs = fix_files(files, per_files, settings, unsafe, write=not show_diff)
    if show_diff:
        click.echo("".join(diffs), nl=False)
        if not quiet:
            click.echo(f"Would fix {fixed} finding{'s' if fixed != 1 else ''}." if fixed else "No fixes available.",
                       err=True)
        sys.exit(EXIT_FINDINGS if diffs else 0)
    if fixed and not quiet:
        click.echo(f"Fixed {fixed} finding{'s' if fixed != 1 else ''}.", err=True)
    return [d for per_file in per_files for d in per_file]


def _report(diagnostics, output_format, output_file, statistics, sources) -> None:
    from shapelint.report import FORMATS, text

    terminal = not output_file and sys.stdout.isatty()
    colour = not output_file and text.use_colour(sys.stdout.isatty())
    if output_format in (None, "text"):
        output_format = "full" if terminal else "concise"
    if statistics:
        if output_format == "json":
            report = json.dumps(text.statistics(diagnostics), indent=2) + "\n"
        else:
            report = text.render_statistics(diagnostics, colour)
    elif output_format == "full":
        report = text.render_full(diagnostics, colour, text.SourceLines(sources))
    elif output_format == "concise":
        report = text.render(diagnostics, colour)
    else:
        report = FORMATS[output_format](diagnostics)
        colour = False
    if output_file:
        with open(output_file, "w", encoding="utf-8") as handle:
            handle.write(report)
    else:
        click.echo(report, nl=False, color=colour)


def _summary(diagnostics, files: int) -> str:
    from collections import Counter

    checked = f"{files} file{'s' if files != 1 else ''}"
    if not diagnostics:
        return f"All checks passed ({checked})."
    by_severity = Counter(d.severity for d in diagnostics)
    parts = [f"{by_severity[s]} {s}{'s' if by_severity[s] != 1 and s != 'info' else ''}"
             for s in ("error", "warning", "info") if by_severity[s]]
    count = len(diagnostics)
    stopped = len({d.path for d in diagnostics if d.code == "SL001"})
    incomplete = f" Analysis stopped early in {stopped} file{'s' if stopped != 1 else ''} (SL001)." if stopped else ""
    return f"Found {count} finding{'s' if count != 1 else ''} in {checked} ({', '.join(parts)}).{incomplete}"


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
        if model.data is not None:
            entry["data"] = {"source": model.data[0].label, "line": span(model.data[0].site).line,
                             "shape": json_shape(model.data[1])}
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
        if "data" in data:
            click.echo(f"  data: {data['data']['source']}, line {data['data']['line']}: {format_shape(model.data[1])}")
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
