"""The venue's HTTP/1.1 client against a real socket peer that answers in each way HTTP allows."""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib
from collections.abc import Awaitable, Callable

import pytest

from server.venue.http import HttpClient, HttpError

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Peer:
    """A TCP server on port 0 that records each request head and body and answers with `answer`."""

    def __init__(self, answer: Callable[[bytes, bytes], bytes | None]) -> None:
        self.answer = answer
        self.requests: list[tuple[bytes, bytes]] = []
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length)
                self.requests.append((head, body))
                reply = self.answer(head, body)
                if reply is None:  # hang: never answer
                    await asyncio.sleep(3600)
                writer.write(reply)
                await writer.drain()
                if b"Connection: close" in reply:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()


def reply(status: str, body: bytes, *headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", *headers]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())


def test_a_post_carries_the_exact_bytes_and_headers_and_reuses_the_connection() -> None:
    async def test() -> None:
        peer = Peer(lambda head, body: reply("200 OK", body))
        url = await peer.start()
        client = HttpClient(url, timeout=5, headers={"User-Agent": "ua", "Content-Type": "application/json"})
        body = b'{"order": {"salt": 1}}'
        first = await client.post("/order", content=body, headers={"POLY_API_KEY": "k"})
        second = await client.post("/order", content=body)
        assert first.status == second.status == 200 and first.content == body
        head, sent = peer.requests[0]
        assert head.startswith(b"POST /order HTTP/1.1\r\n") and sent == body
        assert b"POLY_API_KEY: k\r\n" in head and b"User-Agent: ua\r\n" in head
        assert f"Content-Length: {len(body)}\r\n".encode() in head
        assert peer.connections == 1
        await client.aclose()
        await peer.stop()

    run(test)


def test_query_parameters_and_a_base_path_are_encoded() -> None:
    async def test() -> None:
        peer = Peer(lambda head, body: reply("200 OK", b"{}"))
        url = await peer.start()
        client = HttpClient(url + "/clob/", timeout=5, headers={})
        await client.get("/data/trades", params={"id": "a b", "next_cursor": "MA=="})
        assert peer.requests[0][0].startswith(b"GET /clob/data/trades?id=a+b&next_cursor=MA%3D%3D HTTP/1.1")
        await client.aclose()
        await peer.stop()

    run(test)


@pytest.mark.parametrize("encoding", ["chunked", "gzip", "deflate", "close-delimited", "connection-close"])
def test_every_body_framing_is_read_whole(encoding: str) -> None:
    payload = json.dumps({"bids": [{"price": "0.5", "size": "100"}] * 50}).encode()

    def answer(head: bytes, body: bytes) -> bytes:
        if encoding == "chunked":
            chunks = b"".join(
                f"{len(payload[i : i + 100]):x};ext=1\r\n".encode() + payload[i : i + 100] + b"\r\n"
                for i in range(0, len(payload), 100)
            )
            return reply("200 OK", chunks + b"0\r\nX-Trailer: 1\r\n\r\n", "Transfer-Encoding: chunked")
        if encoding == "gzip":
            return reply("200 OK", gzip.compress(payload), "Content-Encoding: gzip")
        if encoding == "deflate":
            return reply("200 OK", zlib.compress(payload), "Content-Encoding: deflate")
        if encoding == "close-delimited":
            return b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + payload
        return reply("200 OK", payload, "Connection: close")

    async def test() -> None:
        peer = Peer(answer)
        url = await peer.start()
        client = HttpClient(url, timeout=5, headers={})
        for _ in range(2):
            response = await client.get("/book")
            assert response.status == 200 and response.json() == json.loads(payload)
        closes = encoding in ("close-delimited", "connection-close")
        assert peer.connections == (2 if closes else 1)
        await client.aclose()
        await peer.stop()

    run(test)


def test_an_idle_connection_the_peer_closed_is_not_reused() -> None:
    async def test() -> None:
        served: list[asyncio.StreamWriter] = []

        async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(reply("200 OK", b"{}"))
            await writer.drain()
            served.append(writer)
            writer.close()  # keep-alive promised, then closed while idle

        server = await asyncio.start_server(once, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        client = HttpClient(url, timeout=5, headers={})
        assert (await client.get("/ok")).status == 200
        for _ in range(200):  # wait for the peer's FIN to reach the idle connection
            if client._idle and client._idle[0].reader.at_eof():
                break
            await asyncio.sleep(0.005)
        else:
            pytest.fail("the peer's FIN never reached the idle connection")
        assert (await client.post("/order", content=b"{}")).status == 200
        assert len(served) == 2
        await client.aclose()
        server.close()

    run(test)


def test_no_answer_within_the_timeout_is_an_error_and_the_connection_is_dropped() -> None:
    async def test() -> None:
        peer = Peer(lambda head, body: None if b"/slow" in head else reply("200 OK", b"{}"))
        url = await peer.start()
        client = HttpClient(url, timeout=0.2, headers={})
        with pytest.raises(HttpError, match="TimeoutError"):
            await client.post("/slow", content=b"{}")
        assert (await client.get("/ok")).status == 200
        assert peer.connections == 2
        await client.aclose()
        await peer.stop()

    run(test)


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",  # cut mid-body
        b"SPDY/3 200 OK\r\n\r\n",  # not HTTP/1.x
        b"HTTP/1.1 200 OK\r\nno colon here\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 2\r\n\r\n{}",
    ],
)
def test_a_malformed_or_cut_answer_is_an_error(answer: bytes) -> None:
    async def test() -> None:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(answer)
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        client = HttpClient(url, timeout=2, headers={})
        with pytest.raises(HttpError):
            await client.post("/order", content=b"{}")
        await client.aclose()
        server.close()

    run(test)


def test_a_refused_connection_is_an_error() -> None:
    async def test() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        client = HttpClient(f"http://127.0.0.1:{port}", timeout=2, headers={})
        with pytest.raises(HttpError):
            await client.get("/ok")

    run(test)


def test_headers_with_line_breaks_and_non_http_urls_are_refused() -> None:
    with pytest.raises(ValueError):
        HttpClient("ftp://example.org", timeout=1, headers={})

    async def test() -> None:
        client = HttpClient("http://127.0.0.1:9", timeout=1, headers={})
        with pytest.raises(ValueError, match="line break"):
            await client.get("/ok", headers={"X": "a\r\nInjected: 1"})

    run(test)


def test_observers_see_method_path_status_and_time() -> None:
    async def test() -> None:
        peer = Peer(lambda head, body: reply("503 Service Unavailable", b"{}"))
        url = await peer.start()
        client = HttpClient(url, timeout=5, headers={})
        seen: list[tuple[str, str, int, float]] = []
        client.observe(lambda *a: seen.append(a))
        await client.post("/order", content=b"{}")
        assert [(m, p, s) for m, p, s, _ in seen] == [("POST", "/order", 503)] and seen[0][3] > 0
        await client.aclose()
        await peer.stop()

    run(test)
