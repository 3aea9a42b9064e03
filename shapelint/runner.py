"""Linting many files: content-hash cache, then worker processes for what is left; output order
is the order of the file list whatever finishes first."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

from shapelint import __version__
from shapelint.api import INTERNAL_ERROR, Diagnostic, Settings, SourceError, is_internal_error, lint_file, read_source
from shapelint.fix import Fix
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


DIAGNOSTIC_FIELDS = {"path": str, "line": int, "column": int, "end_line": int, "end_column": int, "code": str,
                     "severity": str, "message": str}
OPTIONAL_FIELDS = {"confirmed": bool, "runtime": str, "cell": int, "fix": dict}
SEVERITIES = ("info", "warning", "error")
MAX_ENTRY_BYTES = 4 * 1024 * 1024
ENTRY_SCHEMA = 1
ENTRY_FIELDS = {"schema", "key", "findings", "models", "bound"}


def _valid_diagnostic(item) -> bool:
    if not isinstance(item, dict) or not set(DIAGNOSTIC_FIELDS) <= set(item) \
            or not set(item) <= set(DIAGNOSTIC_FIELDS) | set(OPTIONAL_FIELDS):
        return False
    for name, kind in DIAGNOSTIC_FIELDS.items():
        if type(item[name]) is not kind:  # bool is not an int here
            return False
    for name, kind in OPTIONAL_FIELDS.items():
        if item.get(name) is not None and type(item[name]) is not kind:
            return False
    if item.get("fix") is not None and not Fix.valid_json(item["fix"]):
        return False
    return item["severity"] in SEVERITIES and item["line"] >= 1 and item["column"] >= 1


class ResultCache:
    """Findings per file, keyed by what was analysed: the file's bytes as read for that very
    analysis, its path, the settings and shapelint's version.  Entries are checked on load; an
    entry that is not exactly a list of findings is a miss."""

    def __init__(self, directory: Path, settings: Settings):
        self.directory = directory
        fingerprint = json.dumps([__version__, _code_fingerprint(), _parser_version(), settings.select, settings.ignore, settings.extend_select,
                                  sorted((k, list(v)) for k, v in settings.inputs.items()),
                                  sorted((k, list(v)) for k, v in settings.per_file_ignores.items()),
                                  settings.root, settings.python], default=str)
        self.salt = hashlib.sha256(fingerprint.encode()).hexdigest()

    def entry(self, path: str, digest: str, *extra: str) -> Path:
        """Where the findings of ``path`` with content hash ``digest`` live; ``extra``: anything
        else the findings depend on (say, the content of the modules a file imports)."""
        parts = [self.salt, os.path.abspath(path), digest, *extra]
        key = hashlib.sha256("\0".join(parts).encode()).hexdigest()
        return self.directory / key[:2] / f"{key}.json"

    def get(self, entry: Path, path: str) -> tuple | None:
        """(diagnostics, (model names, bound names)) cached for the file, or None."""
        try:
            with open(entry, "rb") as handle:
                raw = handle.read(MAX_ENTRY_BYTES + 1)
            if len(raw) > MAX_ENTRY_BYTES:
                return None
            stored = json.loads(raw)
        except (OSError, ValueError, RecursionError, MemoryError):
            return None
        # {"schema": 1, "key": <the entry's own key>, "findings": [...], "models": [...], "bound": [...]}:
        # anything else is a miss.
        if not isinstance(stored, dict) or set(stored) != ENTRY_FIELDS \
                or stored["schema"] != ENTRY_SCHEMA or stored["key"] != entry.stem:
            return None
        items, models, bound = stored["findings"], stored["models"], stored["bound"]
        if not all(isinstance(v, list) for v in (items, models, bound)) \
                or not all(_valid_diagnostic(item) for item in items) \
                or not all(isinstance(name, str) for name in models + bound):
            return None
        return [Diagnostic(**{**item, "path": path}) for item in items], (tuple(models), tuple(bound))

    @staticmethod
    def put(entry: Path, outcome: tuple) -> None:
        diagnostics, (models, bound) = outcome[:2]
        if any(is_internal_error(d) for d in diagnostics):
            return  # a failure of shapelint's own is not the file's result
        if len(outcome) > 2 and outcome[2].get("dependencies"):
            return  # it read other modules, which this key does not cover: analysed again each run
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=entry.stem, suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump({"schema": ENTRY_SCHEMA, "key": entry.stem,
                               "findings": [asdict(d) for d in diagnostics],
                               "models": list(models), "bound": list(bound)}, handle)
                os.replace(tmp, entry)  # atomic: a reader sees the old entry or the new, never half
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            pass  # a cache that cannot be written is only slower


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _unread(path: str, error: SourceError) -> tuple:
    return [Diagnostic(path, 1, 1, 1, 1, "SL000", "error", str(error))], ((), ()), {}


def _outcome(path: str, settings: Settings, data: bytes, project: Project) -> tuple:
    """(diagnostics, (model names, bound names), {"dependencies": ..., "coverage": ...})."""
    result = lint_file(path, settings, data=data, project=project)
    return result.diagnostics, (result.model_names, result.bound_names), \
        {"dependencies": result.dependencies, "coverage": result.coverage}


def _lint_one(path: str, settings: Settings, project: Project) -> tuple:
    """(content hash of the bytes analysed or None when unread, outcome), in a worker."""
    try:
        data = read_source(path)
    except SourceError as error:
        return None, _unread(path, error)
    return _digest(data), _outcome(path, settings, data, project)


def _lint_batch(args):
    paths, settings, run = args
    project = Project(run, settings.python)  # one per task: each imported module parsed once there
    return [_lint_one(p, settings, project) for p in paths]


def lint_files(files: list[str], settings: Settings, jobs: int | None = None,
               cache_dir: Path | None = None, coverage: list | None = None) -> list[list[Diagnostic]]:
    """Diagnostics per file, in the order of ``files``."""
    return [diagnostics for diagnostics, _ in lint_files_detailed(files, settings, jobs, cache_dir,
                                                                  coverage=coverage)]


def lint_files_detailed(files: list[str], settings: Settings, jobs: int | None = None,
                        cache_dir: Path | None = None, progress=None, coverage: list | None = None) -> list[tuple]:
    """See ``_lint_files``.  A finding that several files lead to (in a module they all import) is
    listed once, with the first of them; ``coverage``, when given, receives each file's coverage
    (``FileResult.coverage``; empty for a file answered from the cache)."""
    if settings.show_unchecked:
        cache_dir = None  # the per-layer coverage is not cached
    results = _lint_files(files, settings, jobs, cache_dir, progress)
    if coverage is not None:
        coverage.extend((outcome[2] if len(outcome) > 2 else {}).get("coverage", {}) for outcome in results)
    seen, deduplicated = set(), []
    for outcome in results:
        kept = []
        for d in outcome[0]:
            key = (os.path.abspath(d.path), d.line, d.column, d.code)
            if key not in seen:
                seen.add(key)
                kept.append(d)
        deduplicated.append((kept, outcome[1]))
    return deduplicated


def _lint_files(files: list[str], settings: Settings, jobs: int | None = None,
                cache_dir: Path | None = None, progress=None) -> list[tuple]:
    """(diagnostics, (model names, bound names)) per file, in the order of ``files`` (see
    ``FileResult``).  ``progress(done, total)`` is called as files finish.

    Each file is read once for its analysis, and its outcome is cached under the hash of exactly
    those bytes; a file that cannot be read, or whose analysis failed inside shapelint, is never
    cached."""
    results: list = [None] * len(files)
    cache = ResultCache(cache_dir, settings) if cache_dir is not None else None
    run = frozenset(os.path.abspath(p) for p in files)
    project = Project(run, settings.python)
    jobs = jobs or os.cpu_count() or 1
    done = 0

    def finished(count: int = 1) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, len(files))

    misses = []  # [index, digest, bytes read] of the files to lint
    if cache is None and jobs > 1 and len(files) >= PARALLEL_MIN_FILES:
        misses = [[i, None, None] for i in range(len(files))]  # the workers read them
    else:
        for i, path in enumerate(files):
            try:
                data = read_source(path)
            except SourceError as error:
                results[i] = _unread(path, error)
                done += 1
                continue
            digest = _digest(data)
            cached = cache.get(cache.entry(path, digest), path) if cache is not None else None
            if cached is not None:
                results[i] = cached
                done += 1
                continue
            misses.append([i, digest, data])
            if jobs > 1 and len(misses) >= PARALLEL_MIN_FILES:
                for miss in misses:
                    miss[2] = None  # linted in workers, which read the files again: do not hold them
    if jobs > 1 and len(misses) >= PARALLEL_MIN_FILES:
        indices = [i for i, _, _ in misses]
        for i, (digest, outcome) in _lint_parallel([files[i] for i in indices], indices, settings, jobs,
                                                   finished, run).items():
            results[i] = outcome  # keyed below by the hash of what the worker read and analysed
            if cache is not None and digest is not None:
                cache.put(cache.entry(files[i], digest), outcome)
    else:
        for i, digest, data in misses:
            results[i] = _outcome(files[i], settings, data, project)
            if cache is not None:
                cache.put(cache.entry(files[i], digest), results[i])
            finished()
    return results


def _lint_parallel(paths: list[str], indices: list[int], settings: Settings, jobs: int, finished,
                   run: frozenset = frozenset()) -> dict:
    """index -> (digest, outcome).  A worker that dies (a crash in native code) takes down only
    its pool: the files left unfinished are retried one per task, then each alone in a fresh
    process, and a file that still kills its process is reported as an internal error."""
    done: dict = {}
    items = list(zip(indices, paths))
    size = max(1, min(32, len(items) // (jobs * 4)))
    left = _pool_round([items[k:k + size] for k in range(0, len(items), size)], jobs, settings, done, finished, run)
    if left:
        left = _pool_round([[item] for item in left], jobs, settings, done, finished, run)
    for item in left:
        if _pool_round([[item]], 1, settings, done, finished, run):
            i, path = item
            done[i] = (None, ([Diagnostic(path, 1, 1, 1, 1, "SL000", "error",
                                          f"{INTERNAL_ERROR} while analysing {path}: the worker process died "
                                          "(a crash in native code)")], ((), ()), {}))
            finished()
    return done


def _pool_round(groups: list, workers: int, settings: Settings, done: dict, finished,
                run: frozenset = frozenset()) -> list:
    """Runs each group of (index, path) as one task; returns the items a dead worker left undone."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    try:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [(group, pool.submit(_lint_batch, ([p for _, p in group], settings, run))) for group in groups]
            for group, future in futures:
                try:
                    outcomes = future.result()
                except BrokenProcessPool:
                    continue
                for (i, _), outcome in zip(group, outcomes):
                    done[i] = outcome
                finished(len(group))
    except BrokenProcessPool:
        pass
    return [item for group in groups for item in group if item[0] not in done]
