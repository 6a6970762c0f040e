"""A real HTTP server on 127.0.0.1 for platform tests: routes, recorded replies and faults.

Tests never reach the internet (issue 6): each adapter talks to a `LoopbackServer` whose
`base_url` goes into the source's `base_url`. Routes answer with a `Reply` (or a function of the
`Request` returning one); recorded real responses from `../shared/data/api/*/decoded/` are loaded
with `load_recording` and served with `serve_recording`. Faults are replies too: a status with
headers (429 + Retry-After), `Reply.reset()` (the connection drops before any response),
`Reply(delay=…)` (a stall past the client's timeout), a truncated body, a stream of SSE events.

    with LoopbackServer() as server:
        server.route("GET", "/api/v1/notifications", Reply.json([...]))
        server.route("GET", "/api/v1/timelines/tag/kopi", Reply(status=429, headers={...}), times=1)
        ... source with base_url=server.base_url ...
        assert server.requests[0].query["limit"] == ["40"]
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
"""`../shared/data` from the project root: real recordings nobody on the team wrote."""


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data; skips the test with a clear message when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared data set is not next to this checkout)")
    return path


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    """Header names in lower case."""
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering: longer than the client's timeout is a stall."""
    stream: Iterable[bytes] | None = None
    """Chunks sent one by one and flushed (server-sent events, JSON lines); ends the response."""
    drop: bool = False
    """Close the connection without answering: the request arrived, the response is lost."""

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(
            status,
            json.dumps(data).encode(),
            {"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        )

    @classmethod
    def text(cls, text: str | bytes, content_type: str, status: int = 200) -> Reply:
        body = text.encode() if isinstance(text, str) else text
        return cls(status, body, {"Content-Type": content_type})

    @classmethod
    def reset(cls) -> Reply:
        return cls(drop=True)

    @classmethod
    def sse(cls, events: Iterable[tuple[str, str]], pause: float = 0.0) -> Reply:
        """A text/event-stream of (event, data) pairs."""

        def chunks() -> Iterator[bytes]:
            for event, data in events:
                if pause:
                    time.sleep(pause)
                yield f"event: {event}\ndata: {data}\n\n".encode()

        return cls(headers={"Content-Type": "text/event-stream"}, stream=chunks())


Responder = Reply | Callable[[Request], Reply]


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    responder: Responder
    times: int | None
    """How many more requests this route answers (None: any number); then later routes do."""


class LoopbackServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 with an ephemeral port; a context manager."""

    def __init__(self) -> None:
        self._routes: list[_Route] = []
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        # A short poll interval: `shutdown()` waits for it, once per test.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def route(
        self, method: str, path: str, responder: Responder, *, times: int | None = None
    ) -> None:
        """Answer `method path` (exact, or a regex when it starts with `^`) with `responder`.

        Routes added earlier win while they last (`times`), so a fault with `times=1` placed before
        the normal reply makes the first request fail and the retry succeed.
        """
        pattern = re.compile(path if path.startswith("^") else re.escape(path) + r"\Z")
        with self._lock:
            self._routes.append(_Route(method.upper(), pattern, responder, times))

    def first(self, method: str, path: str, responder: Responder, *, times: int = 1) -> None:
        """Like `route`, but ahead of every existing route: for a fault injected mid-test."""
        pattern = re.compile(path if path.startswith("^") else re.escape(path) + r"\Z")
        with self._lock:
            self._routes.insert(0, _Route(method.upper(), pattern, responder, times))

    def requests_to(self, path: str, method: str | None = None) -> list[Request]:
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path == path and (method is None or r.method == method.upper())
            ]

    def _answer(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            for route in self._routes:
                if route.method == request.method and route.pattern.match(request.path):
                    if route.times is not None:
                        if route.times <= 0:
                            continue
                        route.times -= 1
                    responder = route.responder
                    break
            else:
                return Reply.json({"error": f"no route for {request.method} {request.path}"}, 404)
        return responder(request) if callable(responder) else responder


def _handler(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(
                self.command,
                url.path,
                parse_qs(url.query, keep_blank_values=True),
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            reply = server._answer(request)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.drop:
                self.close_connection = True
                # shutdown first: close() alone waits for rfile/wfile to let go of the socket,
                # and until then the client sees a stall rather than a dropped connection.
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                self.connection.close()
                return
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.stream is not None:
                self.send_header("Transfer-Encoding", "chunked")
                # The connection is closed after a stream: say so, or the client may reuse it.
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for chunk in reply.stream:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client went away mid-stream, as clients do
                self.close_connection = True
                return
            self.send_header("Content-Length", str(len(reply.body)))
            try:
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up waiting (a stall test)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    return Handler


@dataclass(frozen=True)
class Interaction:
    """One recorded request/response pair of a `decoded/*.json` file."""

    method: str
    path: str
    query: dict[str, list[str]]
    request_body: Any
    status: int
    content_type: str
    body: Any
    """Parsed JSON where the recording holds JSON; otherwise the text as recorded."""

    def reply(self) -> Reply:
        if isinstance(self.body, str):
            return Reply(self.status, self.body.encode(), {"Content-Type": self.content_type})
        return Reply(
            self.status,
            json.dumps(self.body).encode(),
            {"Content-Type": self.content_type or "application/json"},
        )


def load_recording(path: Path) -> list[Interaction]:
    """The interactions of one `decoded/*.json` recording, in recorded order."""
    out = []
    for item in json.loads(path.read_text(encoding="utf-8")):
        url = urlsplit(item["uri"])
        out.append(
            Interaction(
                method=item["method"].upper(),
                path=url.path,
                query=parse_qs(url.query, keep_blank_values=True),
                request_body=item.get("request_body"),
                status=int(item.get("status", 200)),
                content_type=item.get("content_type") or "",
                body=item.get("body"),
            )
        )
    return out


def serve_recording(server: LoopbackServer, interactions: Iterable[Interaction]) -> None:
    """Route each recorded interaction once, in order; a path recorded several times answers
    with each recorded response in turn (the last one stays)."""
    by_key: dict[tuple[str, str], list[Interaction]] = {}
    for interaction in interactions:
        by_key.setdefault((interaction.method, interaction.path), []).append(interaction)
    for (method, path), recorded in by_key.items():
        for interaction in recorded[:-1]:
            server.route(method, path, interaction.reply(), times=1)
        server.route(method, path, recorded[-1].reply())
