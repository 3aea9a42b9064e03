"""Hostile input: every run completes within a bound, keeps the other files' findings, and exits
as documented (0 clean, 1 findings, 2 internal error)."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CONTROL = textwrap.dedent("""\
    import torch.nn as nn

    net = nn.Sequential(nn.Conv2d(3, 16, 3), nn.Conv2d(32, 8, 3))
""")
HEAD = "import torch.nn as nn\n"


def run(*args, cwd=None, timeout=60, env=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "shapelint", *args], capture_output=True, text=True,
                            cwd=cwd, env=env, timeout=timeout)
    result.seconds = time.monotonic() - started
    return result


def hostile_sources() -> dict:
    """name -> (source, the SL000 message it must get, or None when it must analyse normally)."""
    nested = "source too deeply nested"
    return {
        "parens_1300.py": (HEAD + "x = " + "(" * 1300 + "1" + ")" * 1300 + "\n", "too many nested parentheses"),
        "parens_1000.py": (HEAD + "x = " + "(" * 1000 + "1" + ")" * 1000 + "\n", "too many nested parentheses"),
        "calls.py": (HEAD + "x = " + "f(" * 100_000 + ")" * 100_000 + "\n", "too many nested parentheses"),
        "unary.py": (HEAD + "x = " + "-" * 100_000 + "1\n", nested),
        "nots.py": (HEAD + "x = " + "not " * 100_000 + "1\n", nested),
        "attributes.py": (HEAD + "x = a" + ".b" * 100_000 + "\n", nested),
        "lambdas.py": (HEAD + "x = " + "lambda: " * 100_000 + "1\n", nested),
        "sum_20000.py": (HEAD + "x = " + "+".join(["1"] * 20_000) + "\n", nested),
        "subscripts_1500.py": (HEAD + "x = f" + "[0]" * 1500 + "\n", nested),
        "huge.py": (HEAD + 'TABLE = """' + "x" * (2 * 1024 * 1024) + '"""\n', "file too large to analyse"),
        # Deep but within the bound: analysed, and the finding after it is kept.
        "sum_990.py": (HEAD + "x = " + "+".join(["1"] * 990) + "\n" + CONTROL.split("\n", 1)[1], None),
        "hex.py": (HEAD + "m = nn.Sequential(nn.Conv2d(3, 0x" + "f" * 3600 + ", 3), nn.Conv2d(4, 8, 3))\n"
                   + CONTROL.split("\n", 1)[1], None),
    }


@pytest.fixture
def hostile_tree(tmp_path):
    (tmp_path / "control.py").write_text(CONTROL)
    for name, (source, _) in hostile_sources().items():
        (tmp_path / name).write_text(source)
    os.mkfifo(tmp_path / "fifo.py")
    (tmp_path / "zero.py").symlink_to("/dev/zero")
    (tmp_path / "loop.py").symlink_to(tmp_path / "loop.py")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "socket.py"))
    yield tmp_path
    sock.close()


def _by_file(report: str) -> dict:
    found: dict = {}
    for diag in json.loads(report):
        found.setdefault(Path(diag["path"]).name, []).append(diag)
    return found


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_hostile_files_are_refused_and_the_rest_is_reported(hostile_tree, jobs):
    result = run("check", "--no-cache", "--format", "json", "--jobs", jobs, str(hostile_tree), timeout=60)
    assert result.returncode == 1, result.stderr
    assert result.seconds < 30
    assert "Traceback" not in result.stderr
    found = _by_file(result.stdout)
    assert [(d["code"], d["line"]) for d in found["control.py"]] == [("SL101", 3)]
    for name, (_, refusal) in hostile_sources().items():
        codes = [d["code"] for d in found.get(name, [])]
        if refusal is None:
            assert codes == ["SL101"], (name, found.get(name))
            assert found[name][0]["line"] == 4
        else:
            assert codes == ["SL000"] and refusal in found[name][0]["message"], (name, found.get(name))
    assert found["fifo.py"][0]["message"] == "not a regular file (a FIFO)"
    assert found["zero.py"][0]["message"] == "not a regular file (a device)"
    assert found["socket.py"][0]["message"] == "not a regular file (a socket)"
    assert found["loop.py"][0]["message"].startswith("cannot read file:")
    assert not any("internal error" in d["message"] for diags in found.values() for d in diags)


def test_a_fifo_named_on_the_command_line_is_refused(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    result = run("check", "--no-cache", str(tmp_path / "pipe.py"), timeout=30)
    assert result.returncode == 1
    assert "SL000 not a regular file (a FIFO)" in result.stdout


def test_a_directory_that_cannot_be_listed_is_reported(tmp_path, monkeypatch):
    """As root a mode of 000 does not stop listing, so the refusal is made by os.scandir here."""
    from shapelint import api

    (tmp_path / "control.py").write_text(CONTROL)
    locked = tmp_path / "locked"
    locked.mkdir()
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(locked))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    files = api.collect_files([str(tmp_path)])
    assert files == [str(tmp_path / "control.py"), str(locked)]
    diags = api.lint_file(str(locked)).diagnostics
    assert [(d.code, d.message.split(":")[0]) for d in diags] == [("SL000", "cannot read directory")]


def test_reading_stops_at_the_size_cap(tmp_path):
    from shapelint.api import SourceError, read_source

    big = tmp_path / "big.py"
    big.write_bytes(b"x = 1\n" * 1000)
    assert read_source(str(big), limit=6000) == b"x = 1\n" * 1000
    with pytest.raises(SourceError, match="file too large"):
        read_source(str(big), limit=5999)


def _entries(cache_dir: Path) -> list:
    return sorted(p for p in cache_dir.rglob("*.json"))


BAD_ENTRIES = [
    "{}",
    "[]",
    "not json",
    "[" * 100_000 + "]" * 100_000,
    json.dumps({"schema": 1, "key": "KEY", "findings": []}),  # the key of another entry
    json.dumps({"schema": 1, "key": None, "findings": [{"path": "x.py", "line": "3", "column": 1, "end_line": 3,
                                                       "end_column": 5, "code": "SL101", "severity": "error",
                                                       "message": 7, "confirmed": "yes"}]}),
]


def test_corrupt_cache_entries_are_misses(tmp_path):
    from shapelint import runner
    from shapelint.api import Settings
    from shapelint.report import FORMATS

    (tmp_path / "control.py").write_text(CONTROL)
    files, cache = [str(tmp_path / "control.py")], tmp_path / "cache"
    assert [[d.code for d in diags] for diags in runner.lint_files(files, Settings(), 1, cache)] == [["SL101"]]
    [entry] = _entries(cache)
    for bad in BAD_ENTRIES:
        entry.write_text(bad.replace('"KEY"', '"' + "0" * 64 + '"').replace("null", f'"{entry.stem}"'))
        [diags] = runner.lint_files(files, Settings(), 1, cache)
        assert [d.code for d in diags] == ["SL101"], bad[:80]
        for output_format in ("json", "sarif", "gitlab", "github", "text"):
            assert "channel" in FORMATS[output_format](diags)
        assert runner.ResultCache(cache, Settings()).get(entry, files[0]) is not None  # rewritten, valid
    entry.write_text("[" * 100_000 + "]" * 100_000)
    result = run("check", "--cache-dir", str(cache), "--format", "sarif", files[0])
    assert result.returncode == 1 and "Traceback" not in result.stderr and "SL101" in result.stdout


def test_the_cache_keys_the_bytes_that_were_analysed(tmp_path, monkeypatch):
    """A file edited while the run reads it is cached under the content that was analysed; a file
    that could not be read is not cached at all."""
    from shapelint import runner
    from shapelint.api import Settings

    path = tmp_path / "model.py"
    clean = CONTROL.replace("Conv2d(32", "Conv2d(16")
    path.write_text(CONTROL)
    real_read = runner.read_source

    def read_then_edit(name, *args):
        data = real_read(name, *args)
        path.write_text(clean)  # the user saves while shapelint works on what it read
        return data

    monkeypatch.setattr(runner, "read_source", read_then_edit)
    cache = tmp_path / "cache"
    [diags] = runner.lint_files([str(path)], Settings(), 1, cache)
    assert [d.code for d in diags] == ["SL101"]
    monkeypatch.setattr(runner, "read_source", real_read)
    assert [[d.code for d in diags] for diags in runner.lint_files([str(path)], Settings(), 1, cache)] == [[]]
    path.write_text(CONTROL)  # restored: the cached result of this content is its finding
    assert [[d.code for d in diags] for diags in runner.lint_files([str(path)], Settings(), 1, cache)] == [["SL101"]]

    path.unlink()  # deleted mid-run: reported, never cached
    assert [[d.code for d in diags] for diags in runner.lint_files([str(path)], Settings(), 1, cache)] == [["SL000"]]
    path.write_text(CONTROL)
    assert [[d.code for d in diags] for diags in runner.lint_files([str(path)], Settings(), 1, cache)] == [["SL101"]]


def test_an_internal_error_exits_2_and_names_the_file(tmp_path):
    (tmp_path / "control.py").write_text(CONTROL)
    (tmp_path / "boom.py").write_text(CONTROL)
    code = ("import sys\nimport shapelint.api as api\nreal = api.lint_source\n"
            "def lint_source(data, path, *a, **k):\n"
            "    if path.endswith('boom.py'):\n        raise KeyError('simulated')\n"
            "    return real(data, path, *a, **k)\n"
            "api.lint_source = lint_source\nfrom shapelint.cli import main\n"
            "sys.argv = ['shapelint', 'check', '--no-cache', sys.argv[1]]\nmain()\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode == 2
    assert "control.py:3:" in result.stdout and "SL101" in result.stdout
    assert f"SL000 internal error while analysing {tmp_path / 'boom.py'}: KeyError" in result.stdout


@pytest.mark.skipif(sys.platform != "linux", reason="the crash is simulated in forked workers")
def test_a_worker_that_dies_loses_only_its_file(tmp_path, monkeypatch):
    from shapelint import runner
    from shapelint.api import Settings

    files = []
    for index in range(20):
        path = tmp_path / f"m{index:02}.py"
        path.write_text(CONTROL)
        files.append(str(path))
    real = runner.lint_file

    def crashing(path, *args, **kwargs):
        if path.endswith("m07.py"):
            os.kill(os.getpid(), signal.SIGKILL)  # as a segmentation fault would, without its dump
        return real(path, *args, **kwargs)

    monkeypatch.setattr(runner, "lint_file", crashing)
    results = runner.lint_files(files, Settings(), jobs=2, cache_dir=tmp_path / "cache")
    for path, diags in zip(files, results):
        if path.endswith("m07.py"):
            [diag] = diags
            assert diag.code == "SL000" and diag.message.startswith(f"internal error while analysing {path}")
        else:
            assert [d.code for d in diags] == ["SL101"], path
    # The crash was not cached; the others were.
    assert len(_entries(tmp_path / "cache")) == 19


class RawClient:
    """Speaks LSP's framing by hand, so that it can also break it."""

    def __init__(self, cwd):
        import queue
        import threading

        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen([sys.executable, "-m", "shapelint", "lsp"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd, env=env)
        self.messages: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.next_id = 0

    def _read(self):
        stream = self.proc.stdout
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if line == b"\r\n":
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            self.messages.put(json.loads(stream.read(length)))

    def raw(self, data: bytes):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, method, params, request=True):
        message = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            message["id"] = self.next_id
        body = json.dumps(message).encode()
        self.raw(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        return message.get("id")

    def wait(self, predicate, timeout):
        import queue

        deadline = time.monotonic() + timeout
        while True:
            try:
                message = self.messages.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if predicate(message):
                return message

    def answer(self, request_id, timeout=10):
        return self.wait(lambda m: m.get("id") == request_id and "method" not in m, timeout)

    def close(self):
        try:
            self.send("shutdown", None)
            self.send("exit", None, request=False)
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def _open(client, uri, text, version=1):
    client.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": version,
                                                          "text": text}}, request=False)


def _diagnostics_for(uri):
    return lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri


def test_language_server_recovers_from_broken_framing(tmp_path):
    client = RawClient(tmp_path)
    try:
        answer = client.answer(client.send("initialize", {"processId": None, "rootUri": tmp_path.as_uri(),
                                                          "capabilities": {}}), timeout=30)
        assert answer and "capabilities" in answer["result"]
        client.send("initialized", {}, request=False)
        uri = (tmp_path / "net.py").as_uri()
        _open(client, uri, CONTROL)
        assert client.wait(_diagnostics_for(uri), 30)["params"]["diagnostics"][0]["code"] == "SL101"
        deep = (tmp_path / "deep.py").as_uri()  # would kill a server that gave it to LibCST
        _open(client, deep, hostile_sources()["parens_1300.py"][0])
        [refused] = client.wait(_diagnostics_for(deep), 30)["params"]["diagnostics"]
        assert refused["code"] == "SL000" and "too many nested parentheses" in refused["message"]
        hover = {"textDocument": {"uri": uri}, "position": {"line": 2, "character": 30}}
        broken = [
            b'\r\n{"jsonrpc": "2.0", "id": 900, "method": "shutdown"}',  # no Content-Length
            b'Content-Length: abc\r\n\r\n{"jsonrpc": "2.0", "id": 901, "method": "shutdown"}',
            bytes(range(256)) * 4,  # binary noise
            b"Content-Length: 1000000000000\r\n\r\n{}",
            b'Content-Length: 5\r\n\r\n{"jsonrpc": "2.0", "id": 902}',  # a body longer than announced
            b'Content-Length: 2\r\n\r\n[]',  # JSON, not a message
            b'Content-Length: 60\r\n\r\n{"jsonrpc": "2.0", "id": 903, "method": "textDocument/hover"}',  # too short
        ]
        for noise in broken:
            started = time.monotonic()
            client.raw(noise)
            # A client repeats a request it got no answer to: some answer comes within seconds.
            for _ in range(3):
                answer = client.answer(client.send("textDocument/hover", hover), timeout=5)
                if answer is not None:
                    break
            assert answer is not None and "SL" not in json.dumps(answer.get("error")), noise[:40]
            assert "Conv2d" in answer["result"]["contents"]["value"], noise[:40]
            assert time.monotonic() - started < 15
        assert client.proc.poll() is None
    finally:
        client.close()
    assert client.proc.returncode == 0


def test_a_large_document_does_not_block_the_server(tmp_path):
    """A document over the inline limit is linted in a separate process: hover on another one is
    answered meanwhile, and the large one's finding (on its last line) is published later."""
    from shapelint.lsp_worker import INLINE_MAX_BYTES

    table = "\n".join(f"{row:06} " + "x" * 60 for row in range(INLINE_MAX_BYTES // 60 + 100))
    lines = [HEAD, f'TABLE = """\n{table}\n"""\n', "net = nn.Sequential(nn.Conv2d(3, 16, 3), nn.Conv2d(32, 8, 3))\n"]
    big = "".join(lines)
    lines = big.splitlines()
    client = RawClient(tmp_path)
    try:
        assert client.answer(client.send("initialize", {"processId": None, "rootUri": tmp_path.as_uri(),
                                                        "capabilities": {}}), timeout=30)
        client.send("initialized", {}, request=False)
        small, large = (tmp_path / "small.py").as_uri(), (tmp_path / "large.py").as_uri()
        _open(client, small, CONTROL)
        assert client.wait(_diagnostics_for(small), 30)
        _open(client, large, big)
        started = time.monotonic()
        answer = client.answer(client.send("textDocument/hover", {"textDocument": {"uri": small},
                                                                  "position": {"line": 2, "character": 30}}))
        assert answer and "Conv2d" in answer["result"]["contents"]["value"]
        assert time.monotonic() - started < 3
        published = client.wait(_diagnostics_for(large), 60)
        assert [(d["code"], d["range"]["start"]["line"]) for d in published["params"]["diagnostics"]] == \
            [("SL101", len(lines) - 1)]
    finally:
        client.close()


BUDGET_SOURCE = textwrap.dedent("""\
    import torch.nn as nn

    first = nn.Sequential(nn.Conv2d(3, 16, 3), nn.Conv2d(32, 8, 3))


    def slow():
        table = [[i * j for j in range(300)] for i in range(300)]
        return nn.Sequential(nn.Conv2d(3, 16, 3), nn.Conv2d(32, 8, 3))


    later = slow()
""")


def test_a_spent_work_budget_is_reported_and_keeps_earlier_findings():
    from shapelint.api import lint_source

    started = time.process_time()
    diags = lint_source(BUDGET_SOURCE, "budget.py").diagnostics
    assert time.process_time() - started < 10
    assert [(d.code, d.line) for d in diags] == [("SL101", 3), ("SL001", 6)]
    assert "analysis of `slow` stopped after 200,000 steps" in diags[1].message
    assert diags[1].severity == "info"


def test_the_file_budget_is_shared_by_its_models(monkeypatch):
    from shapelint.api import lint_source
    from shapelint.frontends import budget

    source = BUDGET_SOURCE.replace("range(300)", "range(20)")
    assert [d.code for d in lint_source(source, "budget.py").diagnostics] == ["SL101", "SL101"]
    monkeypatch.setattr(budget, "FILE_STEPS", 500)
    diags = lint_source(source, "budget.py").diagnostics
    assert [(d.code, d.line) for d in diags] == [("SL101", 3), ("SL001", 6)]
    assert "the file's budget of 500 steps is spent" in diags[1].message


FORKING = textwrap.dedent("""\
    import os
    import time

    import torch.nn as nn

    if os.fork() == 0:  # a worker started at import time that never finishes
        with open(os.environ["GRANDCHILD_PID_FILE"], "w") as handle:
            handle.write(str(os.getpid()))
        time.sleep(600)
        os._exit(0)

    net = nn.Sequential(nn.Conv2d(3, 16, 3), nn.Conv2d(32, 8, 3))
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the target forks")
def test_confirm_kills_what_the_model_file_forks(tmp_path):
    (tmp_path / "forking.py").write_text(FORKING)
    pid_file = tmp_path / "grandchild.pid"
    result = run("check", "--no-cache", "--confirm", "--confirm-timeout", "20", "--format", "json",
                 str(tmp_path / "forking.py"), env={"GRANDCHILD_PID_FILE": str(pid_file)}, timeout=120)
    assert result.returncode == 1, result.stderr
    [diag] = json.loads(result.stdout)
    assert diag["code"] == "SL101" and diag["confirmed"] is True
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # killed: gone, or a zombie nobody reaps (no init in a container)
        try:
            state = Path(f"/proc/{grandchild}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            break
        if state == "Z":
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"the forked process {grandchild} outlived shapelint")
