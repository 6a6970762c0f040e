"""The loopback server the platform tests stand on: routes, faults, streams and recordings."""

from __future__ import annotations

import httpx
import pytest

from loopback import LoopbackServer, Reply, load_recording, serve_recording, shared_data


def test_routes_faults_and_request_log() -> None:
    with LoopbackServer() as server:
        server.route("GET", "/api/v1/x", Reply(status=429, headers={"Retry-After": "2"}), times=1)
        server.route("GET", "/api/v1/x", Reply.json({"ok": True}))
        server.route("POST", "^/api/v1/statuses/\\d+/reply$", lambda r: Reply.json(r.json()))
        with httpx.Client(base_url=server.base_url, timeout=2) as client:
            first = client.get("/api/v1/x", params={"limit": 40})
            assert (first.status_code, first.headers["retry-after"]) == (429, "2")
            assert client.get("/api/v1/x").json() == {"ok": True}
            echoed = client.post("/api/v1/statuses/7/reply", json={"text": "hi"})
            assert echoed.json() == {"text": "hi"}
            assert client.get("/nowhere").status_code == 404
        assert server.requests[0].query == {"limit": ["40"]}
        assert [r.method for r in server.requests_to("/api/v1/x")] == ["GET", "GET"]


def test_dropped_and_stalled_responses() -> None:
    with LoopbackServer() as server:
        server.route("GET", "/drop", Reply.reset())
        server.route("GET", "/stall", Reply(delay=1.0))
        with httpx.Client(base_url=server.base_url, timeout=0.2) as client:
            with pytest.raises(httpx.TransportError):
                client.get("/drop")
            with pytest.raises(httpx.ReadTimeout):
                client.get("/stall")
        assert len(server.requests_to("/drop")) == 1  # the request did reach the server


def test_server_sent_events_stream() -> None:
    with LoopbackServer() as server:
        server.route("GET", "/stream", Reply.sse([("update", '{"id": "1"}'), ("update", "{}")]))
        with (
            httpx.Client(base_url=server.base_url, timeout=2) as client,
            client.stream("GET", "/stream") as response,
        ):
            lines = [line for line in response.iter_lines() if line]
    assert lines == ["event: update", 'data: {"id": "1"}', "event: update", "data: {}"]


def test_a_real_recording_replays() -> None:
    path = shared_data("api", "mastodon", "decoded", "test_notifications.decoded.json")
    recorded = load_recording(path)
    assert recorded, path
    with LoopbackServer() as server:
        serve_recording(server, recorded)
        with httpx.Client(base_url=server.base_url, timeout=2) as client:
            first = recorded[0]
            response = client.request(first.method, first.path)
    assert response.status_code == first.status
    assert response.json() == first.body
