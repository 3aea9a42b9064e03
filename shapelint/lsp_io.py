"""The language server's stdio transport: LSP base-protocol framing that survives a bad client.

pygls' own reader trusts every header: a message without ``Content-Length`` (or with
``Content-Length: abc``) leaves it out of step with the stream for good, and a huge length makes
it allocate that much at once (``Content-Length: 1000000000000`` is a MemoryError).  This
reader bounds every read (a header line, a message body), drops what it cannot frame with a
log message, and finds the next ``Content-Length`` header even when it follows the remains of
a broken message on the same line, so the server answers the next well-formed message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import BinaryIO

MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # a 5 MB file is about 5.5 MB of JSON
MAX_HEADER_LINE = 8192

CONTENT_LENGTH = re.compile(rb"content-length:[ \t]*(\S*)[ \t]*\r?\n?\Z", re.IGNORECASE)
HEADER = re.compile(rb"[A-Za-z][A-Za-z0-9-]*:[^\r\n]*\r?\n\Z")

logger = logging.getLogger(__name__)


class StdinReader:
    """Blocking reads of the client's stream, run in an executor so the event loop stays free."""

    def __init__(self, stream: BinaryIO, executor):
        self.stream = stream
        self.executor = executor

    def readline(self):
        return asyncio.get_running_loop().run_in_executor(self.executor, self.stream.readline, MAX_HEADER_LINE)

    def read(self, size: int):
        return asyncio.get_running_loop().run_in_executor(self.executor, self.stream.read, size)


async def read_messages(stop_event, reader: StdinReader, protocol, on_error=None) -> None:
    """Reads framed messages until end of input (or ``stop_event``) and hands each to ``protocol``."""
    length = None  # the Content-Length of the header block being read, when valid
    while not stop_event.is_set():
        line = await reader.readline()
        if not line:
            return  # the client closed the stream
        if line in (b"\r\n", b"\n"):  # the end of a header block
            if length is None:
                logger.error("LSP framing: a header block without a valid Content-Length; skipped")
                continue
            size, length = length, None
            body = await reader.read(size)
            if len(body) < size:
                return  # end of input in the middle of a message
            _dispatch(body, protocol, on_error)
            continue
        # A header may follow the remains of a broken message on the same line.
        start = line.lower().rfind(b"content-length:")
        if start > 0:
            line = line[start:]
        match = CONTENT_LENGTH.match(line)
        if match:
            value = match.group(1)
            length = int(value) if value.isdigit() and len(value) <= 12 else None
            if length is None:
                logger.error("LSP framing: bad Content-Length %r; message skipped", value[:40])
            elif length > MAX_MESSAGE_BYTES:
                logger.error("LSP framing: a message of %d bytes is larger than the %d allowed; skipped",
                             length, MAX_MESSAGE_BYTES)
                length = None
        elif not HEADER.match(line):
            length = None  # noise: out of step until the next Content-Length header


def _dispatch(body: bytes, protocol, on_error) -> None:
    try:
        message = json.loads(body, object_hook=protocol.structure_message)
    except Exception as error:  # noqa: BLE001 - not JSON, or JSON that is not a message
        logger.error("LSP framing: a message that is not JSON-RPC was skipped: %s", str(error)[:200])
        return
    try:
        protocol.handle_message(message)
    except Exception as error:  # noqa: BLE001 - one message never stops the server
        logger.exception("Unable to handle message")
        if on_error is not None:
            from pygls.exceptions import JsonRpcException

            on_error(error, JsonRpcException)
