"""One child process per framework per run: the framework is imported once, every job goes over
in one request, results stream back one JSON line per job.  A child can be started before its
jobs are known, so importing the framework overlaps with planning.  A job that outlives the
timeout or a child that dies is recorded as such; the child is killed and a fresh one takes the
remaining jobs of other files (jobs of the same file would import the same module again)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

FRAMEWORK_IMPORT_SECONDS = 120.0
PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent.parent)


def _environment(home: str) -> dict:
    env = dict(os.environ)
    # Keep model hubs offline: --confirm builds models, it never downloads weights.
    env["HF_HUB_OFFLINE"] = "1"
    env["TORCH_HOME"] = home
    env["PYTHONPATH"] = PACKAGE_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("PYTHONWARNINGS", "ignore")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def _pump(stream, lines: queue.Queue) -> None:
    """Reads the child's lines until end of file, then closes the pipe itself: closing it from
    another thread would wait for this read, which a process still holding the pipe (a grandchild
    that escaped the process group) could keep blocked forever."""
    try:
        for line in stream:
            lines.put(line)
    except (OSError, ValueError):
        pass
    finally:
        lines.put(None)
        try:
            stream.close()
        except OSError:
            pass


def _send(stream, request: dict) -> None:
    try:
        stream.write(json.dumps(request).encode())
        stream.close()
    except (OSError, ValueError):
        pass


class Child:
    """A started ``shapelint.confirm.child``: it imports the framework, then waits for its request."""

    def __init__(self, framework: str, env: dict):
        self.framework = framework
        self.started = time.monotonic()
        self.errors = tempfile.TemporaryFile()
        # In a session of its own: whatever the user's code starts (a forked worker, a server) is
        # in the child's process group, and goes when the child is killed.
        self.proc = subprocess.Popen([sys.executable, "-m", "shapelint.confirm.child", framework],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors, env=env,
                                     start_new_session=hasattr(os, "killpg"))
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=_pump, args=(self.proc.stdout, self.lines), daemon=True).start()

    def close(self) -> None:
        """Kills the child and everything in its process group; never waits on a pipe."""
        if hasattr(os, "killpg"):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group outlives its leader: kill it always
            except (ProcessLookupError, PermissionError):
                pass
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.errors.close()

    def stderr_tail(self) -> str:
        try:
            self.errors.flush()
            self.errors.seek(0)
            text = self.errors.read().decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""
        last = [line for line in text.splitlines() if line.strip()][-1:] if text else []
        return f": {last[0][:300]}" if last else ""

    def run(self, jobs: list, timeout: float, mode: str, results: dict) -> list:
        """Run ``jobs``; fill ``results``; return the jobs a fresh child should take."""
        # From a thread: a child stuck before reading its request must not block us past the deadline.
        threading.Thread(target=_send, args=(self.proc.stdin, {"mode": mode, "jobs": jobs}), daemon=True).start()
        by_id = {job["id"]: job for job in jobs}
        waiting = [job["id"] for job in jobs]
        current = None  # the job the child is running; None while it imports the framework
        # Importing the framework is not the user's code: it gets its own allowance.
        deadline = self.started + max(timeout, FRAMEWORK_IMPORT_SECONDS)
        while waiting:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                what = f"{by_id[current]['model']} in {by_id[current]['path']}" if current is not None \
                    else f"import {self.framework}"
                reason = f"timed out after {timeout:g} s (running {what})"
                return _give_up(waiting, current, by_id, results, reason, f"timed out after {timeout:g} s")
            if line is None:
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
                reason = f"the {self.framework} child process died (exit code {self.proc.returncode})" \
                         f"{self.stderr_tail()}"
                return _give_up(waiting, current, by_id, results, reason, reason)
            try:
                message = json.loads(line)
            except ValueError:
                continue
            event = message.pop("event", None)
            if event == "unavailable":
                for job_id in waiting:
                    results[job_id] = {"failed": message["reason"]}
                return []
            if event == "start":
                current = message.get("id")
                deadline = time.monotonic() + timeout
            elif event == "result":
                job_id = message.pop("id")
                results[job_id] = message
                if job_id in waiting:
                    waiting.remove(job_id)
                current = None
        return []


class Session:
    """Children for one run, started on demand (``prepare``) and always killed at the end."""

    def __init__(self):
        self._home = tempfile.TemporaryDirectory(prefix="shapelint-confirm-")
        self.env = _environment(self._home.name)
        self.ready: dict = {}  # framework -> a started child not yet given jobs

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for child in self.ready.values():
            child.close()
        self.ready.clear()
        self._home.cleanup()

    def prepare(self, framework: str) -> None:
        if framework not in self.ready:
            self.ready[framework] = Child(framework, self.env)

    def run(self, framework: str, jobs: list, timeout: float, mode: str = "confirm") -> dict:
        """job id -> the child's result dict, or {"failed": reason} for a job that got no result."""
        results: dict = {}
        todo = list(jobs)
        while todo:
            child = self.ready.pop(framework, None) or Child(framework, self.env)
            try:
                todo = child.run(todo, timeout, mode, results)
            finally:
                child.close()
        return results


def run_jobs(framework: str, jobs: list, timeout: float, mode: str = "confirm") -> dict:
    with Session() as session:
        return session.run(framework, jobs, timeout, mode)


def _give_up(waiting, current, by_id, results, reason, same_file_reason) -> list:
    """Record the job in flight (and the others of its file) as failed; the rest go to a new child."""
    if current is None:
        for job_id in waiting:
            results[job_id] = {"failed": reason}
        return []
    path = by_id[current]["path"]
    rest = []
    for job_id in waiting:
        if job_id == current:
            results[job_id] = {"failed": reason}
        elif by_id[job_id]["path"] == path:
            results[job_id] = {"failed": same_file_reason}
        else:
            rest.append(by_id[job_id])
    return rest
