"""`smcc ingest` in a child process that kills itself (SIGKILL) at one step of sending.

    python tests/outbox_child.py before_send|after_send|none --db DB

With SMCC_TEST_NO_KEYS=1 the Mastodon source is treated as a platform without idempotency keys
(as X, Bluesky and Reddit are), so the sender must look for its post before sending again.

Used by test_outbox_crash.py; the crash "during send" (the request reached the server, the
response never came back) is done by the Mastodon stand-in killing this process instead.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


def _die(*args: Any, **kwargs: Any) -> Any:
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    crash_at, args = sys.argv[1], sys.argv[2:]
    if os.environ.get("SMCC_TEST_NO_KEYS") == "1":
        from smcc.sources.mastodon import MastodonSource

        MastodonSource.idempotency_window = None  # type: ignore[assignment]
    if crash_at == "before_send":
        # After the claim (the row says `sending`), before any request leaves.
        from smcc.sources.mastodon import MastodonSource

        MastodonSource._send = _die  # type: ignore[method-assign]
    elif crash_at == "after_send":
        # The platform answered with the status; the process dies before the row says `sent`.
        from smcc.store import Store

        Store.outbox_sent = _die  # type: ignore[method-assign]
    elif crash_at != "none":
        raise SystemExit(f"unknown crash point {crash_at!r}")
    from smcc.cli import main as smcc

    smcc(["ingest", "--quiet", *args])


if __name__ == "__main__":
    main()
