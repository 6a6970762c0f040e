"""A Mastodon stand-in on a `LoopbackServer`: it keeps the statuses posted to it.

It models what the outbox relies on, the way Mastodon does it:

- `POST /api/v1/statuses` stores a status and answers with it. An `Idempotency-Key` is
  remembered per account for `key_ttl` seconds (Mastodon: 3600, in PostStatusService); a repeat
  with the same key within that time creates nothing and answers with the status made first.
- A reply to a status that does not exist (never did, or was deleted) is refused with 404 and
  Mastodon's message (`statuses.errors.in_reply_not_found`, from the controller's `set_thread`,
  which runs before the idempotency key is looked at); a status over `max_chars` is refused
  with 422.
- `GET /api/v1/statuses/:id`, `…/context` (descendants), `DELETE /api/v1/statuses/:id`,
  `GET /api/v1/accounts/verify_credentials`, `GET /api/v1/accounts/:id/statuses`, and an empty
  `GET /api/v2/search` (so a listening source can run against it too).
- `GET /api/v2/instance` states `max_chars` as `configuration.statuses.max_characters`.
- A wrong or missing bearer token is a 401.

Faults are functions run for the next POSTs: `before_store` ones may answer instead of storing
(the request never took effect), `after_store` ones get the stored status and may answer instead
of the normal response (`Reply.reset()`: the status exists, the response is lost) or do something
else first (kill the client process).
"""

from __future__ import annotations

import html
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from loopback import LoopbackServer, Reply, Request

F = TypeVar("F")

OWN_ACCOUNT = {"id": "109", "acct": "nusantel", "username": "nusantel"}


@dataclass
class MastodonStandIn:
    server: LoopbackServer
    token: str
    key_ttl: float = 3600.0
    max_chars: int = 500
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    before_store: list[Callable[[Request], Reply | None]] = field(default_factory=list)
    after_store: list[Callable[[dict[str, Any]], Reply | None]] = field(default_factory=list)
    _keys: dict[tuple[str, str], tuple[float, str]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(110_000_000))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        s = self.server
        s.route("POST", "/api/v1/statuses", self._post)
        s.route("GET", r"^/api/v1/statuses/(\d+)/context$", self._context)
        s.route("GET", r"^/api/v1/statuses/(\d+)$", self._get)
        s.route("DELETE", r"^/api/v1/statuses/(\d+)$", self._delete)
        s.route("GET", "/api/v1/accounts/verify_credentials", self._me)
        s.route("GET", r"^/api/v1/accounts/(\w+)/statuses$", self._account_statuses)
        s.route("GET", "/api/v2/search", lambda r: Reply.json({"statuses": [], "accounts": []}))
        s.route("GET", "/api/v2/instance", self._instance)

    def _instance(self, request: Request) -> Reply:
        """The part of Mastodon's instance document the outbox reads: the server's limit."""
        return Reply.json({"configuration": {"statuses": {"max_characters": self.max_chars}}})

    # -- helpers for tests ---------------------------------------------------------------------

    def add_status(
        self,
        text: str,
        *,
        acct: str = "dewi",
        account_id: str = "77",
        in_reply_to_id: str | None = None,
    ) -> dict[str, Any]:
        """A status by someone else (a customer's post to answer)."""
        with self._lock:
            return self._store(
                text, {"id": account_id, "acct": acct, "username": acct}, in_reply_to_id
            )

    def own_statuses(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                s
                for s in self.statuses.values()
                if s["account"]["id"] == OWN_ACCOUNT["id"] and s["id"] not in self.deleted
            ]

    # -- the API -------------------------------------------------------------------------------

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.token}"

    def _store(
        self, text: str, account: dict[str, str], in_reply_to_id: str | None
    ) -> dict[str, Any]:
        status_id = str(next(self._ids))
        parent = self.statuses.get(in_reply_to_id) if in_reply_to_id else None
        status: dict[str, Any] = {
            "id": status_id,
            "uri": f"https://stand.in/users/{account['acct']}/statuses/{status_id}",
            "url": f"https://stand.in/@{account['acct']}/{status_id}",
            "created_at": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "content": "<p>" + html.escape(text).replace("\n", "<br>") + "</p>",
            "spoiler_text": "",
            "visibility": "public",
            "language": None,
            "in_reply_to_id": in_reply_to_id,
            "in_reply_to_account_id": parent["account"]["id"] if parent else None,
            "account": {
                **account,
                "display_name": account["acct"].title(),
                "followers_count": 10,
            },
            "favourites_count": 0,
            "reblogs_count": 0,
            "replies_count": 0,
            "mentions": [],
            "tags": [],
            "reblog": None,
        }
        self.statuses[status_id] = status
        return status

    def _post(self, request: Request) -> Reply:
        if not self._authorised(request):
            return Reply.json({"error": "The access token is invalid"}, 401)
        for fault in self._take(self.before_store):
            answer = fault(request)
            if answer is not None:
                return answer
        body = request.json()
        text = str(body.get("status") or "")
        key = request.headers.get("idempotency-key")
        with self._lock:
            now = time.monotonic()
            # Mastodon looks up the parent (the controller's set_thread) before anything else,
            # the idempotency key included.
            parent_id = body.get("in_reply_to_id")
            if parent_id is not None and (
                parent_id not in self.statuses or parent_id in self.deleted
            ):
                return Reply.json(
                    {"error": "The post you are trying to reply to does not appear to exist."},
                    404,
                )
            if key:
                known = self._keys.get((OWN_ACCOUNT["id"], key))
                if known is not None and now - known[0] < self.key_ttl:
                    return Reply.json(self.statuses[known[1]])
            if not text.strip():
                return Reply.json({"error": "Validation failed: Text can't be blank"}, 422)
            if len(text) > self.max_chars:
                return Reply.json(
                    {"error": "Validation failed: Text character limit of 500 exceeded"}, 422
                )
            status = self._store(text, OWN_ACCOUNT, parent_id)
            if key:
                self._keys[(OWN_ACCOUNT["id"], key)] = (now, status["id"])
        for after in self._take(self.after_store):
            answer = after(status)
            if answer is not None:
                return answer
        return Reply.json(status)

    def _take(self, faults: list[F]) -> list[F]:
        with self._lock:
            if not faults:
                return []
            return [faults.pop(0)]

    def _status_id(self, request: Request, suffix: str = "") -> str:
        return request.path.removeprefix("/api/v1/statuses/").removesuffix(suffix)

    def _get(self, request: Request) -> Reply:
        status = self.statuses.get(self._status_id(request))
        if status is None or status["id"] in self.deleted:
            return Reply.json({"error": "Record not found"}, 404)
        return Reply.json(status)

    def _delete(self, request: Request) -> Reply:
        status_id = self._status_id(request)
        with self._lock:
            if status_id not in self.statuses:
                return Reply.json({"error": "Record not found"}, 404)
            self.deleted.add(status_id)
        return Reply.json(self.statuses[status_id])

    def _context(self, request: Request) -> Reply:
        root = self._status_id(request, "/context")
        with self._lock:
            if root not in self.statuses or root in self.deleted:
                return Reply.json({"error": "Record not found"}, 404)
            descendants: list[dict[str, Any]] = []
            frontier = [root]
            while frontier:
                parent = frontier.pop(0)
                for s in self.statuses.values():
                    if s["in_reply_to_id"] == parent and s["id"] not in self.deleted:
                        descendants.append(s)
                        frontier.append(s["id"])
        return Reply.json({"ancestors": [], "descendants": descendants})

    def _me(self, request: Request) -> Reply:
        if not self._authorised(request):
            return Reply.json({"error": "The access token is invalid"}, 401)
        return Reply.json({**OWN_ACCOUNT, "display_name": "Nusantel", "followers_count": 5000})

    def _account_statuses(self, request: Request) -> Reply:
        account = request.path.split("/")[4]
        exclude_replies = request.query.get("exclude_replies", ["false"])[0] == "true"
        with self._lock:
            found = [
                s
                for s in self.statuses.values()
                if s["account"]["id"] == account
                and s["id"] not in self.deleted
                and not (exclude_replies and s["in_reply_to_id"])
            ]
        found.sort(key=lambda s: (len(s["id"]), s["id"]), reverse=True)
        return Reply.json(found[:40])
