"""Stand-ins for Reddit, Bluesky and X on a `LoopbackServer`, for the outbox's tests: each keeps
what is posted to it and answers as the platform does, a reply to a deleted post included.

- Reddit keeps the comments posted to `/api/comment` (answered like Reddit's `api_type=json`, a
  refusal in `json.errors` with status 200) and lists the account's own comments newest first
  (`/user/NAME/comments`).
- Bluesky's PDS stores whatever `createRecord` gets (a reply to a deleted post too, as a real
  PDS does: it checks no references) and lists our repo's records; `getPosts` answers for the
  posts in `posts` and leaves out the others, as the AppView does for deleted ones.
- X keeps `POST /2/tweets` and lists the account's posts; a reply to a deleted post is X's 403.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from loopback import LoopbackServer, Reply, Request
from smcc.config import Config, parse_config
from smcc.models import Author, Mention, utcnow

ME = "nusantel_care"

CUSTOMER_POSTS = {
    "reddit": "t3_abc",
    "twitter": "1850000000000000001",
    "bluesky": "at://did:plc:dewi/app.bsky.feed.post/3kabc",
}
"""The platform id of the customer's post each test answers."""


def standin_config(name: str, kind: str, base_url: str) -> Config:
    """One source `name` of type `kind` on a stand-in at `base_url` (short timeouts, fast
    retries), as the outbox's tests use it."""
    extra = {"reddit": f"auth_url = '{base_url}'\n", "bluesky": "handle = 'brand.bsky.social'\n"}
    return parse_config(
        f"[sources.{name}]\ntype = '{kind}'\nbase_url = '{base_url}'\n{extra.get(kind, '')}"
        "timeout = '500ms'\n[outbox]\nretry_after = '20ms'\n"
    )


X_CREDENTIALS = {
    "CONSUMER_KEY": "ck",
    "CONSUMER_SECRET": "cs",
    "ACCESS_TOKEN": "12-at",
    "ACCESS_TOKEN_SECRET": "ats",
    "BEARER_TOKEN": "AAAA-bearer-0123456789",
}
"""The stand-in X account's credentials, as `SMCC_X_<FIELD>` gives them to a source named x."""


def x_credentials_env() -> dict[str, str]:
    """X_CREDENTIALS as environment variables, for monkeypatch.setenv."""
    return {f"SMCC_X_{field_name}": value for field_name, value in X_CREDENTIALS.items()}


def customer_post(name: str, kind: str) -> Mention:
    """The customer's post on source `name` (of type `kind`) that a test replies to."""
    return Mention(
        source=name,
        external_id=CUSTOMER_POSTS[kind],
        author=Author(handle="dewi.bsky.social" if kind == "bluesky" else "dewi"),
        text="nusantel no signal",
        created_at=utcnow(),
        raw={"cid": "bafyparent"} if kind == "bluesky" else {},
    )


X_DELETED_PARENT = {
    "detail": "You attempted to reply to a Tweet that is deleted or not visible to you.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}
"""X API v2's answer to a reply whose parent is gone (v1.1: error 385, same text)."""


@dataclass
class RedditStandIn:
    server: LoopbackServer
    comments: list[dict[str, Any]] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    """Fullnames (t1_…, t3_…) of things deleted: a comment on one is refused as Reddit does."""
    before_store: list[Callable[[], Reply | None]] = field(default_factory=list)
    after_store: list[Callable[[], Reply | None]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        s = self.server
        s.route("POST", "/api/v1/access_token", Reply.json({"access_token": "tok-1"}))
        s.route("GET", "/api/v1/me", Reply.json({"name": ME}))
        s.route("POST", "/api/comment", self._comment)
        s.route("GET", f"/user/{ME}/comments", self._mine)

    def _comment(self, request: Request) -> Reply:
        if self.before_store:
            answer = self.before_store.pop(0)()
            if answer is not None:
                return answer
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if form["thing_id"] in self.deleted:
            # Reddit answers 200 with the refusal in `json.errors` ([code, message, field]).
            code, message = (
                ("DELETED_LINK", "the link you are commenting on has been deleted")
                if form["thing_id"].startswith("t3_")
                else ("DELETED_COMMENT", "that comment has been deleted")
            )
            return Reply.json({"json": {"errors": [[code, message, "parent"]]}})
        with self._lock:
            cid = f"c{next(self._ids)}"
            data = {
                "id": cid,
                "name": f"t1_{cid}",
                "parent_id": form["thing_id"],
                "body": form["text"],
                "author": ME,
                "created_utc": time.time(),
            }
            self.comments.append(data)
        if self.after_store:
            answer = self.after_store.pop(0)()
            if answer is not None:
                return answer
        return Reply.json(
            {"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": data}]}}}
        )

    def _mine(self, request: Request) -> Reply:
        with self._lock:
            children = [{"kind": "t1", "data": c} for c in reversed(self.comments)]
        return Reply.json({"kind": "Listing", "data": {"children": children, "after": None}})


DID = "did:plc:brand"


@dataclass
class BlueskyStandIn:
    server: LoopbackServer
    records: list[dict[str, Any]] = field(default_factory=list)
    posts: dict[str, str] = field(default_factory=dict)
    """Others' posts the AppView knows (uri → cid); `getPosts` leaves out any other."""
    after_store: list[Callable[[], Reply | None]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        session = {"accessJwt": "a-jwt-1111", "refreshJwt": "r-jwt-2222", "did": DID}
        s = self.server
        s.route("POST", "/xrpc/com.atproto.server.createSession", Reply.json(session))
        s.route("POST", "/xrpc/com.atproto.repo.createRecord", self._create)
        s.route("GET", "/xrpc/com.atproto.repo.listRecords", self._list)
        s.route("GET", "/xrpc/app.bsky.feed.getPosts", self._get_posts)

    def _create(self, request: Request) -> Reply:
        body = request.json()
        uri = f"at://{DID}/app.bsky.feed.post/3k{next(self._ids):011d}"
        self.records.append({"uri": uri, "cid": "bafy", "value": body["record"]})
        if self.after_store:
            answer = self.after_store.pop(0)()
            if answer is not None:
                return answer
        return Reply.json({"uri": uri, "cid": "bafy"})

    def _list(self, request: Request) -> Reply:
        return Reply.json({"records": list(reversed(self.records))})

    def _get_posts(self, request: Request) -> Reply:
        found = [
            {"uri": uri, "cid": self.posts[uri], "record": {"text": "…"}}
            for uri in request.query.get("uris", [])
            if uri in self.posts
        ]
        return Reply.json({"posts": found})


@dataclass
class XStandIn:
    server: LoopbackServer
    tweets: list[dict[str, Any]] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    """Ids of posts deleted: a reply to one is refused with X's 403."""
    after_store: list[Callable[[], Reply | None]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1_860_000_000_000_000_000))

    def __post_init__(self) -> None:
        s = self.server
        s.route("GET", "/2/users/me", Reply.json({"data": {"id": "42", "username": "nusantel"}}))
        s.route("POST", "/2/tweets", self._create)
        s.route("GET", "/2/users/42/tweets", self._mine)

    def _create(self, request: Request) -> Reply:
        body = request.json()
        reply = body.get("reply") or {}
        if reply.get("in_reply_to_tweet_id") in self.deleted:
            return Reply.json(X_DELETED_PARENT, 403)
        tweet: dict[str, Any] = {"id": str(next(self._ids)), "text": body["text"]}
        if reply.get("in_reply_to_tweet_id"):
            tweet["referenced_tweets"] = [
                {"type": "replied_to", "id": reply["in_reply_to_tweet_id"]}
            ]
            # As X does: the answered account's handle in front, entities escaped.
            tweet["text"] = "@dewi " + body["text"].replace("&", "&amp;")
        self.tweets.append(tweet)
        if self.after_store:
            answer = self.after_store.pop(0)()
            if answer is not None:
                return answer
        return Reply.json({"data": {"id": tweet["id"], "text": tweet["text"]}}, 201)

    def _mine(self, request: Request) -> Reply:
        assert "start_time" in request.query
        return Reply.json({"data": list(reversed(self.tweets))} if self.tweets else {"meta": {}})
