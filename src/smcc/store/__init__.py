"""The store: schema, migrations, the Store API, full-text search and the change counter."""

from smcc.store.console import OPEN_STATUSES, ActionResult, QueueItem, RollupMinute
from smcc.store.store import (
    BatchResult,
    LeaseInfo,
    MentionFilter,
    PreparedBatch,
    Store,
    StoreError,
    from_ts,
    prepare_batch,
    process_identity,
    ts,
)

__all__ = [
    "OPEN_STATUSES",
    "ActionResult",
    "BatchResult",
    "LeaseInfo",
    "MentionFilter",
    "PreparedBatch",
    "QueueItem",
    "RollupMinute",
    "Store",
    "StoreError",
    "from_ts",
    "prepare_batch",
    "process_identity",
    "ts",
]
