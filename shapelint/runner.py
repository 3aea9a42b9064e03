"""Linting many files: content-hash cache, then worker processes for what is left; output order
is the order of the file list whatever finishes first."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

from shapelint import __version__
from shapelint.api import Diagnostic, Settings, lint_file
from shapelint.project import Project

PARALLEL_MIN_FILES = 16  # below this, worker start-up costs more than it saves


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "shapelint" / "results"


def _code_fingerprint() -> str:
    """Changes whenever shapelint's own code does, so a development checkout never reads stale results."""
    package = Path(__file__).resolve().parent
    stamps = []
    for path in sorted(package.rglob("*.py")):
        try:
            stat = path.stat()
        except OSError:
            continue
        stamps.append(f"{path.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(stamps).encode()).hexdigest()


def _parser_version() -> str:
    """What parses the files matters too: an older LibCST or Python rejects newer syntax."""
    import sys
    from importlib.metadata import PackageNotFoundError, version

    try:
        libcst = version("libcst")
    except PackageNotFoundError:
        libcst = "?"
    return f"python {sys.version_info[0]}.{sys.version_info[1]} libcst {libcst}"


class ResultCache:
    def __init__(self, directory: Path, settings: Settings):
        self.directory = directory
        fingerprint = json.dumps([__version__, _code_fingerprint(), _parser_version(), settings.select, settings.ignore, settings.extend_select,
                                  sorted((k, list(v)) for k, v in settings.inputs.items()),
                                  sorted((k, list(v)) for k, v in settings.per_file_ignores.items()),
                                  settings.root, settings.python, settings.show_unchecked], default=str)
        self.salt = hashlib.sha256(fingerprint.encode()).hexdigest()

    def _entry(self, path: str) -> Path | None:
        try:
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
        except OSError:
            return None
        key = hashlib.sha256(f"{self.salt}\0{os.path.abspath(path)}\0{digest}".encode()).hexdigest()
        return self.directory / key[:2] / f"{key}.json"

    def get(self, path: str, run_files: frozenset = frozenset()):
        """(entry, outcome) or (entry, None) when nothing usable is cached: when the file, a module
        it imported, or whether that module is part of the run (which decides where its findings
        are reported) changed since.  An outcome is (diagnostics, (model names, bound names),
        dependencies, coverage)."""
        entry = self._entry(path)
        if entry is None or not entry.is_file():
            return entry, None
        try:
            data = json.loads(entry.read_text())
            for dependency, (digest, in_run) in data["dependencies"].items():
                if _digest(dependency) != digest or (dependency in run_files) != in_run:
                    return entry, None
            names = (tuple(data["models"]), tuple(data["bound"]))
            dependencies = {path: digest for path, (digest, _) in data["dependencies"].items()}
            return entry, ([Diagnostic(**d) for d in data["diagnostics"]], names, dependencies, data["coverage"])
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return entry, None

    @staticmethod
    def put(entry: Path | None, outcome, run_files: frozenset = frozenset()):
        if entry is None:
            return
        diagnostics, names, dependencies, coverage = outcome
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            tmp = entry.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"diagnostics": [asdict(d) for d in diagnostics], "models": list(names[0]),
                                       "bound": list(names[1]), "coverage": coverage or {},
                                       "dependencies": {p: [digest, p in run_files]
                                                        for p, digest in (dependencies or {}).items()}}))
            os.replace(tmp, entry)
        except OSError:
            pass  # a cache that cannot be written is only slower


def _digest(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None


def _lint_one(path: str, settings: Settings, project: Project):
    result = lint_file(path, settings, project=project)
    return result.diagnostics, (result.model_names, result.bound_names), result.dependencies, result.coverage


def _lint_batch(args):
    paths, settings, run = args
    project = Project(run, settings.python)  # one per worker batch: each module parsed once there
    return [_lint_one(p, settings, project) for p in paths]


def lint_files(files: list[str], settings: Settings, jobs: int | None = None,
               cache_dir: Path | None = None, coverage: list | None = None) -> list[list[Diagnostic]]:
    """Diagnostics per file, in the order of ``files``."""
    return [diagnostics for diagnostics, _ in lint_files_detailed(files, settings, jobs, cache_dir,
                                                                  coverage=coverage)]


def lint_files_detailed(files: list[str], settings: Settings, jobs: int | None = None,
                        cache_dir: Path | None = None, progress=None, coverage: list | None = None) -> list[tuple]:
    """(diagnostics, (model names, bound names)) per file, in the order of ``files`` (see
    ``FileResult``).  ``progress(done, total)``
    is called as files finish.  A finding that several files lead to (in a module they all
    import) is listed once, with the first of them.  ``coverage``, when given, receives each
    file's coverage (``FileResult.coverage``) in the same order."""
    results: list = [None] * len(files)
    entries: list = [None] * len(files)
    cache = ResultCache(cache_dir, settings) if cache_dir is not None else None
    run = frozenset(os.path.abspath(p) for p in files)
    todo = []
    for i, path in enumerate(files):
        if cache is not None:
            entries[i], cached = cache.get(path, run)
            if cached is not None:
                results[i] = cached
                continue
        todo.append(i)
    done = len(files) - len(todo)
    jobs = jobs or os.cpu_count() or 1
    if jobs > 1 and len(todo) >= PARALLEL_MIN_FILES:
        from concurrent.futures import ProcessPoolExecutor

        size = max(1, min(32, len(todo) // (jobs * 4)))
        batches = [todo[i:i + size] for i in range(0, len(todo), size)]
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for batch, outcomes in zip(batches, pool.map(_lint_batch, [([files[i] for i in b], settings, run)
                                                                       for b in batches])):
                for i, outcome in zip(batch, outcomes):
                    results[i] = outcome
                done += len(batch)
                if progress is not None:
                    progress(done, len(files))
    else:
        project = Project(run, settings.python)
        for i in todo:
            results[i] = _lint_one(files[i], settings, project)
            done += 1
            if progress is not None:
                progress(done, len(files))
    if cache is not None:
        for i in todo:
            cache.put(entries[i], results[i], run)
    if coverage is not None:
        coverage.extend(outcome[3] for outcome in results)
    seen, deduplicated = set(), []
    for diagnostics, names, _, _ in results:
        kept = []
        for d in diagnostics:
            key = (os.path.abspath(d.path), d.line, d.column, d.code)
            if key not in seen:
                seen.add(key)
                kept.append(d)
        deduplicated.append((kept, names))
    return deduplicated
