"""The child process of ``--confirm`` / ``--trace``: ``python -m shapelint.confirm.child FRAMEWORK``.

Imports the framework and says ``{"event": "ready"}`` (on a private copy of stdout, in JSON
lines), then reads one request ``{"mode": "confirm"|"trace", "jobs": [...]}`` from stdin, puts
/dev/null in place of stdin for the user's code, and answers ``{"event": "start", "id"}`` and
``{"event": "result", "id", ...}`` per job.  Whatever the user's code prints goes to stderr.
"""

from __future__ import annotations

import json
import os
import sys


def _runner(framework: str):
    if framework == "torch":
        from shapelint.confirm.torch_runtime import TorchRunner

        return TorchRunner()
    if framework == "keras":
        from shapelint.confirm.keras_runtime import KerasRunner

        return KerasRunner()
    if framework == "tf":
        from shapelint.confirm.tf_runtime import TfRunner

        return TfRunner()
    raise ValueError(f"no runner for {framework!r}")


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def main() -> None:
    framework = sys.argv[1]
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    if hasattr(os, "register_at_fork"):
        # A process the user's code forks must not hold the parent's pipe open.
        os.register_at_fork(after_in_child=lambda: _close_quietly(channel.fileno()))
    sys.stdout = sys.stderr

    def send(message: dict) -> None:
        channel.write(json.dumps(message) + "\n")
        channel.flush()

    # The framework is imported while the parent is still planning the jobs.
    try:
        runner = _runner(framework)
    except BaseException as exc:  # noqa: BLE001
        send({"event": "unavailable", "reason": f"cannot import {framework}: {type(exc).__name__}: {exc}"})
        os._exit(0)
    send({"event": "ready", "version": getattr(runner, "version", "")})
    request = json.loads(sys.stdin.read() or '{"jobs": []}')
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the process
    for job in request["jobs"]:
        send({"event": "start", "id": job["id"]})
        try:
            result = runner.run(job, request.get("mode", "confirm"))
        except BaseException as exc:  # noqa: BLE001 - one job never stops the others
            result = {"internal": f"{type(exc).__name__}: {exc}"}
        send({"event": "result", "id": job["id"], **result})
    channel.flush()
    # Threads the user's code started must not keep the process alive.
    os._exit(0)


if __name__ == "__main__":
    main()
