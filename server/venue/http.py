"""A small HTTP/1.1 keep-alive client on asyncio streams, for the venue's JSON API.

httpx cost about 0.8 ms of CPU per request here (0.1 ms for this), most of the venue client's share of
an order, on a server whose throughput is bound by one interpreter lock. This speaks only what the
venue needs: one origin, `Content-Length` request bodies, `Content-Length`, chunked or close-delimited
responses, gzip/deflate bodies, TLS for https.

Any failure to get a complete answer raises `HttpError` and closes the connection: for a POST the
caller must treat it as "may or may not have reached the venue". An idle connection the peer already
closed is never reused for a request.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

MAX_HEAD = 64 * 1024
MAX_BODY = 32 * 1024 * 1024
IDLE_SECONDS = 20.0  # well under common keep-alive timeouts, so the peer rarely closes one in our hands

Observer = Callable[[str, str, int, float], None]  # method, path, status, seconds


class HttpError(Exception):
    """No complete answer (connection refused or lost, timeout, malformed response)."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = field(default_factory=time.monotonic)

    def usable(self) -> bool:
        return (
            not self.reader.at_eof()
            and not self.writer.is_closing()
            and time.monotonic() - self.idle_since < IDLE_SECONDS
        )

    def close(self) -> None:
        self.writer.close()


class HttpClient:
    """Requests to one origin over a pool of keep-alive connections, from one event loop."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        headers: Mapping[str, str],
        max_connections: int = 64,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._host = parts.hostname
        self._tls = parts.scheme == "https"
        self._port = parts.port or (443 if self._tls else 80)
        default_port = self._port == (443 if self._tls else 80)
        self._host_header = parts.netloc.rsplit("@", 1)[-1] if not default_port else self._host
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._headers = _header_lines(headers)
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(max_connections)
        self._ssl = ssl.create_default_context() if self._tls else None
        self._observers: list[Observer] = []
        self._closed = False

    def observe(self, observer: Observer) -> None:
        """Calls `observer(method, path, status, seconds)` for every answer received."""
        self._observers.append(observer)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> HttpResponse:
        if self._closed:
            raise HttpError("client closed")
        target = self._prefix + path + ("?" + urlencode(params) if params else "")
        head = f"{method} {target} HTTP/1.1\r\nHost: {self._host_header}\r\n{self._headers}"
        if headers:
            head += _header_lines(headers)
        if content is not None:
            head += f"Content-Length: {len(content)}\r\n"
        payload = (head + "\r\n").encode("latin-1") + (content or b"")
        started = time.perf_counter()
        connection: _Connection | None = None
        try:
            async with asyncio.timeout(self._timeout), self._slots:
                connection = self._take() or await self._connect()
                connection.writer.write(payload)
                await connection.writer.drain()
                status, response_headers, body, keep = await _read_response(connection.reader, method)
        except (OSError, EOFError, TimeoutError, ValueError, asyncio.LimitOverrunError, zlib.error) as exc:
            if connection is not None:
                connection.close()
            raise HttpError(type(exc).__name__) from None
        except BaseException:
            if connection is not None:
                connection.close()
            raise
        assert connection is not None
        if keep and not self._closed:
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        else:
            connection.close()
        response = HttpResponse(status, response_headers, body)
        elapsed = time.perf_counter() - started
        for observer in self._observers:
            observer(method, path, status, elapsed)
        return response

    async def get(self, path: str, **kwargs: Any) -> HttpResponse:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> HttpResponse:
        return await self.request("POST", path, **kwargs)

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _take(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()  # the most recently used is the likeliest to be alive
            if connection.usable():
                return connection
            connection.close()
        return None

    async def _connect(self) -> _Connection:
        reader, writer = await asyncio.open_connection(
            self._host,
            self._port,
            ssl=self._ssl,
            server_hostname=self._host if self._tls else None,
            limit=MAX_HEAD,
        )
        return _Connection(reader, writer)


def _header_lines(headers: Mapping[str, str]) -> str:
    lines = []
    for name, value in headers.items():
        if any(c in name or c in value for c in "\r\n"):
            raise ValueError("a header may not contain a line break")
        lines.append(f"{name}: {value}\r\n")
    return "".join(lines)


async def _read_response(
    reader: asyncio.StreamReader, method: str
) -> tuple[int, dict[str, str], bytes, bool]:
    """(status, headers with lower-case names, decoded body, whether the connection may be reused)."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
        version, _, rest = status_line.partition(" ")
        if not version.startswith("HTTP/1."):
            raise ValueError("not an HTTP/1.x response")
        status = int(rest[:3])
        if status >= 200 or status == 101:
            break  # 1xx interim answers precede the real one
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError("malformed header line")
        headers[name.strip().lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    keep = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    if method == "HEAD" or status in (204, 304):
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in headers:
        length = int(headers["content-length"])
        if not 0 <= length <= MAX_BODY:
            raise ValueError("content length out of bounds")
        body = await reader.readexactly(length)
    else:
        body = await reader.read(MAX_BODY)
        keep = False
    encoding = headers.get("content-encoding", "").lower()
    if encoding == "gzip":
        body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        try:
            body = zlib.decompress(body)
        except zlib.error:
            body = zlib.decompress(body, -zlib.MAX_WBITS)
    elif encoding not in ("", "identity"):
        raise ValueError(f"unsupported content encoding {encoding[:20]!r}")
    return status, headers, body, keep


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailers
            return b"".join(chunks)
        total += size
        if total > MAX_BODY:
            raise ValueError("body too large")
        chunks.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise ValueError("malformed chunk")
