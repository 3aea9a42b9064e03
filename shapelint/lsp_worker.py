"""Linting for the language server, off its message loop and within a time budget.

One worker thread lints the open documents; a newer version of a document replaces its older
one in the queue, so a burst of keystrokes costs one lint.  The message loop never parses or
lints: hover, completion or a framing error are answered while a lint runs.  The analysis itself
is bounded by the interpreter's work budget (``frontends/budget.py``).

LibCST's parser holds the interpreter lock for the whole parse (about 3 s per MB), which would
freeze the loop as surely as parsing on it: a document larger than ``INLINE_MAX_BYTES`` is
therefore linted in a separate process instead, killed after ``PROCESS_TIMEOUT_SECONDS``.  Such a
document gets its diagnostics later and no models (no hover or inlay hints); the server says so.

Only this module knows about threads and processes: a feature asks the server for a document's
result (``ShapelintServer.current_result``) and gets it, or None when it is not ready in time.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from shapelint.api import MAX_FILE_BYTES, Diagnostic, FileResult, Settings, lint_source

INLINE_MAX_BYTES = 256 * 1024
PROCESS_TIMEOUT_SECONDS = 60.0
WORKER_STACK_BYTES = 64 * 1024 * 1024  # deep (but accepted) nesting recurses a few frames per level


@dataclass
class Job:
    uri: str
    version: int | None
    text: str
    path: str
    future: Future = field(default_factory=Future)

    @property
    def size(self) -> int:
        return len(self.text.encode("utf-8", "surrogatepass"))


@dataclass
class Outcome:
    result: FileResult | None  # None when the job was replaced by a newer version
    notice: str | None = None  # something the user should be told (a stopped analysis, an error)


class LintWorker:
    """Runs ``lint_inline(job)`` (or a separate process for a large document) on a thread of its
    own, and calls ``on_done(job, outcome)`` from that thread after each job."""

    def __init__(self, lint_inline: Callable[[Job], FileResult], on_done: Callable[[Job, Outcome], None]):
        self.lint_inline = lint_inline
        self.on_done = on_done
        self._pending: dict = {}  # uri -> the newest Job not started yet
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, uri: str, version, text: str, path: str) -> Future:
        job = Job(uri, version, text, path)
        with self._ready:
            replaced = self._pending.pop(uri, None)
            if replaced is not None:
                replaced.future.set_result(Outcome(None))
            self._pending[uri] = job
            if self._thread is None:
                previous = threading.stack_size(WORKER_STACK_BYTES)
                try:
                    self._thread = threading.Thread(target=self._run, name="shapelint-lint", daemon=True)
                    self._thread.start()
                finally:
                    threading.stack_size(previous)
            self._ready.notify()
        return job.future

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._pending and not self._closed:
                    self._ready.wait()
                if self._closed:
                    return
                uri = next(iter(self._pending))
                job = self._pending.pop(uri)
            try:
                outcome = self.lint(job)
            except Exception as error:  # noqa: BLE001 - one document never stops the server
                outcome = Outcome(FileResult(job.path, []), f"internal error on {job.path}: {error!r}")
            job.future.set_result(outcome)
            self.on_done(job, outcome)

    def lint(self, job: Job) -> Outcome:
        size = job.size
        if size > MAX_FILE_BYTES:
            return Outcome(FileResult(job.path, [Diagnostic(job.path, 1, 1, 1, 1, "SL000", "error",
                                                            f"file too large to lint ({size} bytes > {MAX_FILE_BYTES})")]))
        if size > INLINE_MAX_BYTES:
            return lint_in_process(job.text, job.path, settings_for(job.path), PROCESS_TIMEOUT_SECONDS)
        return Outcome(self.lint_inline(job))


def settings_for(path: str) -> Settings:
    from shapelint import config as configuration

    try:
        conf = configuration.load(Path(path).parent)
    except (configuration.ConfigError, OSError):
        return Settings()
    return Settings(select=conf.select, ignore=conf.ignore, extend_select=conf.extend_select,
                    inputs=conf.inputs, per_file_ignores=conf.per_file_ignores,
                    root=str(conf.root) if conf.root else None, python=conf.python)


def lint_in_process(text: str, path: str, settings: Settings, timeout: float) -> Outcome:
    """Diagnostics (no models) from a child process, which is killed when it runs out of time."""
    name = path.rsplit("/", 1)[-1]
    command = [sys.executable, "-c", "from shapelint.lsp_worker import child_main; child_main()"]
    kwargs = {"start_new_session": True} if sys.platform != "win32" else {}
    root = str(Path(__file__).resolve().parent.parent)  # this shapelint, wherever it was imported from
    env = dict(os.environ, PYTHONPATH=root + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else ""))
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=env, **kwargs)
    try:
        out, _ = proc.communicate(pickle.dumps((text, path, settings)), timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return Outcome(FileResult(path, []), f"shapelint: the analysis of {name} took more than {timeout:g} s and "
                                             "was stopped; run `shapelint check` on it for its findings")
    try:
        diagnostics = pickle.loads(out)
    except Exception:  # noqa: BLE001 - the child died (out of memory, killed)
        return Outcome(FileResult(path, []), f"shapelint: the analysis of {name} failed "
                                             f"(exit code {proc.returncode}); run `shapelint check` on it")
    return Outcome(FileResult(path, diagnostics))


def child_main() -> None:
    """The separate process: one document in (pickled from the server), its diagnostics out."""
    text, path, settings = pickle.load(sys.stdin.buffer)
    try:
        diagnostics = lint_source(text, path, settings).diagnostics
    except Exception as error:  # noqa: BLE001
        diagnostics = [Diagnostic(path, 1, 1, 1, 1, "SL000", "error",
                                  f"internal error while analysing {path}: {type(error).__name__}: {error}")]
    sys.stdout.buffer.write(pickle.dumps(diagnostics))
    sys.stdout.buffer.flush()
