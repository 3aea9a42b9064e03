"""Measure shapelint on real model code nobody on the team wrote.

    python bench/corpus.py [--packages torchvision,timm,smp,torch] [--cache bench/.corpus]
                           [--json-out FILE] [--timing] [--timeout 60] [--shapelint-src DIR]
                           [--extend-select SL203] [--concrete 224] [--input 1,224,224,3]
                           [--check-prune]

For each pinned package it downloads the wheel once (``pip download --no-deps``, into
``CACHE/wheels``), unpacks its ``.py`` files (into ``CACHE/src/NAME``), runs shapelint in-process
over the model code and prints, per package: files, files with a model, models found, conv
layers found vs conv call sites in the source, layers whose output shape is fully known, crashes,
wall time and findings by code.  Once the wheels are cached it runs offline.

Nothing here imports the analysed packages: only their source text is read.

``--timing`` also times, per file of the torchvision + timm model code, shapelint vs
``libcst.parse_module`` alone vs ``ast.parse`` alone, and lists the slowest files.

``--check-prune`` lints every file of the chosen packages twice, parsed whole and pruned
(``shapelint/prune.py``, whenever it applies), and lists the files whose findings or models
(layers, shapes, positions) differ; it also prints the share of lines pruning leaves out.
"""

from __future__ import annotations

import argparse
import ast
import glob
import json
import shutil
import signal
import subprocess
import sys
import time
import traceback
import zipfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# name -> (pip requirement, wheel file glob, roots inside the wheel to lint; () = every .py file)
PACKAGES = {
    "torchvision": ("torchvision==0.29.1", "torchvision-0.29.1-*.whl", ("torchvision/models",)),
    "timm": ("timm==1.0.31", "timm-1.0.31-*.whl", ("timm/models",)),
    "smp": ("segmentation-models-pytorch==0.6.0", "segmentation_models_pytorch-0.6.0-*.whl",
            ("segmentation_models_pytorch",)),
    "torch": ("torch==2.13.0", "torch-2.13.0*.whl", ()),
    "keras": ("keras==3.15.1", "keras-3.15.1-*.whl", ("keras/src/applications",)),
    "tf-keras": ("tf-keras==2.21.0", "tf_keras-2.21.0-*.whl", ("tf_keras/src/applications",)),
}
DEFAULT_PACKAGES = ("torchvision", "timm", "smp", "torch", "keras", "tf-keras")
TIMING_PACKAGES = (("torchvision", "torchvision/models"), ("timm", "timm/models"))

CONV_NAMES = {f"{lazy}Conv{tr}{n}d" for lazy in ("", "Lazy") for tr in ("", "Transpose") for n in (1, 2, 3)}
CONV_NAMES |= {f"conv{tr}{n}d" for tr in ("", "_transpose") for n in (1, 2, 3)}
CONV_NAMES |= {f"{kind}{n}D{tr}" for kind in ("Conv", "Convolution") for n in (1, 2, 3) for tr in ("", "Transpose")}
CONV_NAMES |= {f"{kind}{n}D" for kind in ("SeparableConv", "DepthwiseConv") for n in (1, 2)}


class Timeout(Exception):
    pass


# ----- corpus ---------------------------------------------------------------------------------

def _pip_command() -> list[str]:
    probe = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True)
    if probe.returncode == 0:
        return [sys.executable, "-m", "pip"]
    for name in ("pip3", "pip"):
        if shutil.which(name):
            return [shutil.which(name)]
    raise SystemExit("no pip found to download the corpus wheels")


def fetch(name: str, cache: Path) -> Path:
    """The package's source tree under CACHE/src/NAME, downloading and unpacking as needed."""
    requirement, pattern, _ = PACKAGES[name]
    wheels = cache / "wheels"
    src = cache / "src" / name
    marker = src / ".unpacked"
    found = sorted(glob.glob(str(wheels / pattern)))
    if not found:
        wheels.mkdir(parents=True, exist_ok=True)
        print(f"[{name}] pip download --no-deps {requirement}", file=sys.stderr)
        subprocess.run(_pip_command() + ["download", "--no-deps", "--disable-pip-version-check",
                                         "-d", str(wheels), requirement], check=True,
                       stdout=subprocess.DEVNULL)
        found = sorted(glob.glob(str(wheels / pattern)))
        if not found:
            raise SystemExit(f"[{name}] pip download gave no wheel matching {pattern}")
    wheel = Path(found[-1])
    if not marker.exists() or marker.read_text() != wheel.name:
        if src.exists():
            shutil.rmtree(src)
        src.mkdir(parents=True)
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                if member.endswith(".py"):
                    archive.extract(member, src)
        marker.write_text(wheel.name)
    return src


def files_of(name: str, src: Path, roots=None) -> list[Path]:
    roots = PACKAGES[name][2] if roots is None else roots
    bases = [src / r for r in roots] if roots else [src]
    found = []
    for base in bases:
        found.extend(p for p in base.rglob("*.py") if p.is_file())
    return sorted(found)


# ----- measuring ------------------------------------------------------------------------------

def conv_call_sites(tree: ast.AST) -> int:
    count = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            last = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
            if last in CONV_NAMES:
                count += 1
    return count


def conv_call_lines(tree: ast.AST) -> set:
    """The lines where a conv layer is called (constructed, or applied functionally)."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            last = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
            if last in CONV_NAMES:
                lines.add(node.lineno)
    return lines


def is_conv(node) -> bool:
    name = node.name
    return name.startswith(("Conv", "LazyConv", "F.conv", "SeparableConv", "DepthwiseConv"))


def shape_known(shape) -> bool:
    """Rank and every dim determined (an int or a symbolic expression; the batch may be symbolic)."""
    return shape is not None and all(d is not None for d in shape)


def shape_concrete(shape) -> bool:
    """Every dim but the batch is an int."""
    return shape is not None and all(isinstance(d, int) for d in shape[1:])


class Probe:
    """Wraps the torch frontend's ``analyse`` to see the RecursionError that lint_source swallows."""

    def __init__(self):
        from shapelint.frontends import torch as torch_frontend

        self.module = torch_frontend
        self.original = torch_frontend.analyse
        self.recursion = False

        def analyse(*args, **kwargs):
            try:
                return self.original(*args, **kwargs)
            except RecursionError:
                self.recursion = True
                raise

        torch_frontend.analyse = analyse

    def close(self):
        self.module.analyse = self.original


def _alarm(signum, frame):
    raise Timeout()


def lint_one(path: Path, settings, timeout: int):
    """(FileResult or None, crash record or None, seconds)."""
    from shapelint.api import lint_source

    data = path.read_bytes()
    start = time.perf_counter()
    crash = None
    result = None
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    try:
        result = lint_source(data, str(path), settings, want_models=True)
    except Timeout:
        crash = {"kind": "timeout", "error": f"more than {timeout} s"}
    except RecursionError as error:
        crash = {"kind": "RecursionError", "error": str(error), "traceback": traceback.format_exc(limit=-8)}
    except Exception as error:  # noqa: BLE001 - a crash is a measurement here
        crash = {"kind": type(error).__name__, "error": str(error), "traceback": traceback.format_exc(limit=-12)}
    finally:
        signal.alarm(0)
    return result, crash, time.perf_counter() - start


def concrete_inputs(path: Path, settings, timeout: int, size: int) -> dict:
    """For each model whose symbolic input has a known channel count, a concrete input:
    batch 2 and every spatial dim = size (what a user would pass with --input-shape)."""
    result, _, _ = lint_one(path, settings, timeout)
    found = {}
    for model in result.models if result is not None else ():
        shape = model.input
        if model.input_source != "symbolic" or shape is None or len(shape) < 2 or model.name == "<module>":
            continue
        if isinstance(shape[1], int) and not isinstance(shape[1], bool):
            spatial = [size] * (len(shape) - 2) if len(shape) > 2 else []
            found[model.name] = [2, shape[1]] + spatial
    return found


def measure(name: str, src: Path, files: list[Path], timeout: int, records: list, extend_select: tuple = (),
            concrete: int | None = None, given: tuple | None = None) -> dict:
    from shapelint.api import Settings

    settings = Settings(extend_select=extend_select, inputs={"*": given} if given else {})
    stats = Counter()
    by_code = Counter()
    crashes = []
    probe = Probe()
    started = time.perf_counter()
    conv_lines, covered = set(), set()  # (absolute path, line) of conv calls; of those some model ran
    try:
        for path in files:
            rel = str(path.relative_to(src))
            stats["files"] += 1
            try:
                tree = ast.parse(path.read_bytes())
                stats["conv_sites"] += conv_call_sites(tree)
                conv_lines.update((str(path.resolve()), line) for line in conv_call_lines(tree))
            except (SyntaxError, ValueError, RecursionError):
                pass
            probe.recursion = False
            file_settings = settings
            if concrete:
                inputs = concrete_inputs(path, settings, timeout, concrete)
                if inputs:
                    file_settings = Settings(extend_select=extend_select, inputs=inputs)
            result, crash, seconds = lint_one(path, file_settings, timeout)
            if crash is None and probe.recursion:
                crash = {"kind": "RecursionError (swallowed by lint_source)", "error": "analysis dropped"}
            if result is not None:
                for diag in result.diagnostics:
                    if diag.code == "SL000" and diag.message.startswith("internal error"):
                        crash = crash or {"kind": "SL000", "error": diag.message}
                        continue
                    by_code[diag.code] += 1
                    records.append({"package": name, "path": rel, "line": diag.line, "column": diag.column,
                                    "code": diag.code, "severity": diag.severity, "message": diag.message})
                if result.models:
                    stats["files_with_model"] += 1
                conv_defs = set()
                for model in result.models:
                    stats["models"] += 1
                    for node in model.nodes:
                        if not node.inputs:
                            continue
                        stats["layers"] += 1
                        stats["layers_known"] += shape_known(node.output)
                        stats["layers_concrete"] += shape_concrete(node.output)
                        if is_conv(node):
                            stats["conv_nodes"] += 1
                            stats["conv_known"] += shape_known(node.output)
                            conv_defs.add(id(node.def_site))
                            where = getattr(result, "where", None)  # older shapelint: one file at a time
                            found = where(node.def_site) if where is not None else \
                                (str(path), result.positions.span(node.def_site))
                            if found is not None:
                                covered.add((str(Path(found[0]).resolve()), found[1].line))
                stats["conv_defs"] += len(conv_defs)
            if crash is not None:
                crash.update({"package": name, "path": rel})
                crashes.append(crash)
                records.append({"package": name, "path": rel, "code": "CRASH", **crash})
    finally:
        probe.close()
    stats["seconds"] = time.perf_counter() - started
    stats["conv_lines"] = len(conv_lines)
    stats["conv_lines_covered"] = len(conv_lines & covered)
    missing = sorted(f"{Path(p).relative_to(src.resolve())}:{line}" for p, line in conv_lines - covered)
    return {"package": name, "stats": dict(stats), "by_code": dict(by_code), "crashes": crashes,
            "conv_lines_missing": missing}


def print_summary(summary: dict) -> None:
    s = summary["stats"]
    files = s.get("files", 0)
    seconds = s.get("seconds", 0.0)
    print(f"== {summary['package']}")
    print(f"  files {files}, with a model {s.get('files_with_model', 0)}, models {s.get('models', 0)}")
    print(f"  conv layers found: {s.get('conv_defs', 0)} distinct definitions ({s.get('conv_nodes', 0)} applications)"
          f" vs {s.get('conv_sites', 0)} conv call sites in the source")
    if s.get("conv_lines"):
        print(f"  conv call-site lines that appear as a layer of some model: {s.get('conv_lines_covered', 0)}"
              f" of {s['conv_lines']} ({100 * s.get('conv_lines_covered', 0) / s['conv_lines']:.0f}%)")
    if s.get("conv_nodes"):
        print(f"  conv applications with a fully known output shape: {s.get('conv_known', 0)}"
              f" ({100 * s.get('conv_known', 0) / s['conv_nodes']:.0f}%)")
    layers = s.get("layers", 0)
    if layers:
        print(f"  layers {layers}: output shape fully known {s.get('layers_known', 0)}"
              f" ({100 * s.get('layers_known', 0) / layers:.0f}%), all non-batch dims concrete"
              f" {s.get('layers_concrete', 0)} ({100 * s.get('layers_concrete', 0) / layers:.0f}%)")
    else:
        print("  layers 0")
    print(f"  crashes {len(summary['crashes'])}" + "".join(
        f"\n    {c['path']}: {c['kind']}: {c['error'][:160]}" for c in summary["crashes"]))
    rate = files / seconds if seconds else 0.0
    print(f"  wall time {seconds:.1f} s ({rate:.1f} files/s, {1000 * seconds / max(files, 1):.0f} ms/file)")
    codes = ", ".join(f"{code} {count}" for code, count in sorted(summary["by_code"].items())) or "none"
    print(f"  findings: {codes}")


# ----- timing ---------------------------------------------------------------------------------

def timing(cache: Path, timeout: int, top: int = 5) -> dict:
    import libcst

    from shapelint.api import Settings

    settings = Settings()
    rows = []
    for name, root in TIMING_PACKAGES:
        src = fetch(name, cache)
        for path in files_of(name, src, (root,)):
            data = path.read_bytes()
            t0 = time.perf_counter()
            ast.parse(data)
            t1 = time.perf_counter()
            libcst.parse_module(data.decode("utf-8"))
            t2 = time.perf_counter()
            _, crash, lint_seconds = lint_one(path, settings, timeout)
            rows.append({"path": f"{name}:{path.relative_to(src)}", "lines": data.count(b"\n"),
                         "ast": t1 - t0, "libcst": t2 - t1, "shapelint": lint_seconds, "crash": bool(crash)})
    total = {k: sum(r[k] for r in rows) for k in ("ast", "libcst", "shapelint")}
    lines = sum(r["lines"] for r in rows)
    print(f"== timing: {len(rows)} files, {lines} lines (torchvision/models + timm/models)")
    for key in ("ast", "libcst", "shapelint"):
        print(f"  {key:<10} total {total[key]:7.2f} s  mean {1000 * total[key] / max(len(rows), 1):6.1f} ms/file"
              f"  ({total[key] / max(total['ast'], 1e-9):5.1f}x ast.parse)")
    print(f"  shapelint / libcst.parse_module: {total['shapelint'] / max(total['libcst'], 1e-9):.2f}x")
    print(f"  {top} slowest files under shapelint:")
    for r in sorted(rows, key=lambda r: -r["shapelint"])[:top]:
        print(f"    {r['path']} ({r['lines']} lines): shapelint {1000 * r['shapelint']:.0f} ms, "
              f"libcst {1000 * r['libcst']:.0f} ms, ast {1000 * r['ast']:.1f} ms")
    return {"files": len(rows), "lines": lines, "totals": total, "rows": rows}


def _observed(result) -> tuple:
    """Findings and models as a user sees them (``shapes``), with positions."""
    def shape(dims):
        return None if dims is None else tuple(str(d) for d in dims)

    span = result.positions.span if result.positions else None
    models = [(m.name, m.framework, shape(m.input), m.input_source, span(m.site),
               [(n.name, span(n.call_site), span(n.def_site), [shape(i) for i in n.inputs], shape(n.output),
                 n.speculative, n.hint, [(p.kind, p.fatal, sorted((k, str(v)) for k, v in p.data.items()))
                                         for p in n.problems]) for n in m.nodes])
              for m in result.models]
    return [(d.code, d.line, d.column, d.end_line, d.end_column, d.message) for d in result.diagnostics], models


def check_prune(names: list, cache: Path) -> int:
    """Files whose findings or models differ between the whole and the pruned parse."""
    from shapelint.api import lint_source
    from shapelint.frontends import FUNCTION_ROOTS, IMPORT_ROOTS
    from shapelint.prune import prune

    differ = files = lines = kept = 0
    for name in names:
        src = fetch(name, cache)
        for path in files_of(name, src):
            data = path.read_bytes()
            files += 1
            pruned = prune(data, IMPORT_ROOTS, always=True, function_roots=FUNCTION_ROOTS)
            lines += data.count(b"\n") + 1
            kept += pruned.kept_lines if pruned else data.count(b"\n") + 1
            if pruned is None:
                continue
            whole = _observed(lint_source(data, str(path), want_models=True, prune="never"))
            if _observed(lint_source(data, str(path), want_models=True, prune="always")) != whole:
                differ += 1
                print(f"  differs when pruned: {name}:{path.relative_to(src)}")
    print(f"== pruning: {files} files, {lines} lines, {kept} parsed when pruned ({100 * kept / max(lines, 1):.1f}%),"
          f" {differ} files differ")
    return differ


def describe_source(src: Path) -> str:
    """The commit (and whether the tree is modified) of the shapelint being measured."""
    try:
        head = subprocess.run(["git", "-C", str(src), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(src), "status", "--porcelain", "--", "shapelint"],
                               capture_output=True, text=True).stdout.strip()
        return f"{src} (commit {head}{', shapelint/ modified' if dirty else ''})"
    except (OSError, subprocess.CalledProcessError):
        marker = src / "COMMIT"
        return f"{src} ({marker.read_text().strip() if marker.exists() else 'not a git checkout'})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", default=",".join(DEFAULT_PACKAGES),
                        help=f"comma-separated, from {', '.join(PACKAGES)}")
    parser.add_argument("--cache", default=str(REPO / "bench" / ".corpus"), help="download/unpack directory")
    parser.add_argument("--json-out", help="write every finding and crash here (JSON)")
    parser.add_argument("--timing", action="store_true", help="also time shapelint vs libcst vs ast per file")
    parser.add_argument("--show-uncovered", action="store_true",
                        help="list the conv call-site lines that no model applies as a layer")
    parser.add_argument("--check-prune", action="store_true",
                        help="only compare findings and models of whole vs pruned parses, file by file")
    parser.add_argument("--timeout", type=int, default=60, help="seconds per file before it counts as a crash")
    parser.add_argument("--extend-select", default="", help="extra rule codes to enable, e.g. SL203")
    parser.add_argument("--concrete", type=int, metavar="SIZE",
                        help="second pass: give every model whose channel count is known a concrete input "
                             "[2, C, SIZE, SIZE] (as --input-shape would) to exercise the spatial checks")
    parser.add_argument("--input", metavar="SHAPE",
                        help="an input shape given to every model, as `--input-shape SHAPE` would "
                             "(e.g. 1,224,224,3 for the Keras applications)")
    parser.add_argument("--shapelint-src", default=str(REPO),
                        help="directory holding the shapelint package to measure (default: this checkout); "
                             "e.g. a `git archive` snapshot, so that edits in progress do not move the figures")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(args.shapelint_src).resolve()))
    print(f"shapelint from {describe_source(Path(args.shapelint_src))}")
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 3000))
    cache = Path(args.cache)
    names = [n.strip() for n in args.packages.split(",") if n.strip()]
    unknown = [n for n in names if n not in PACKAGES]
    if unknown:
        parser.error(f"unknown package(s): {', '.join(unknown)}")
    if args.check_prune:
        return 1 if check_prune(names, cache) else 0
    given = None
    if args.input:
        from shapelint.frontends.base import parse_shape

        given = parse_shape(args.input)
        if given is None:
            parser.error(f"cannot read a shape from {args.input!r}")
    records, summaries = [], []
    grand = time.perf_counter()
    total_files = 0
    for name in names:
        src = fetch(name, cache)
        files = files_of(name, src)
        extend = tuple(c.strip() for c in args.extend_select.split(",") if c.strip())
        summary = measure(name, src, files, args.timeout, records, extend, args.concrete, given)
        print_summary(summary)
        if args.show_uncovered:
            for where in summary["conv_lines_missing"]:
                print(f"    not a layer of any model: {where}")
        sys.stdout.flush()
        summaries.append(summary)
        total_files += len(files)
    elapsed = time.perf_counter() - grand
    print(f"== total: {total_files} files in {elapsed:.1f} s ({total_files / max(elapsed, 1e-9):.1f} files/s)")
    out = {"summaries": summaries, "records": records}
    if args.timing:
        out["timing"] = timing(cache, args.timeout)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as handle:
            json.dump(out, handle, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
