"""The store: schema, migrations, the Store API, full-text search and the change counter."""

from smcc.store.store import (
    BatchResult,
    LeaseInfo,
    MentionFilter,
    Store,
    StoreError,
    from_ts,
    open_store,
    process_identity,
    ts,
)

__all__ = [
    "BatchResult",
    "LeaseInfo",
    "MentionFilter",
    "Store",
    "StoreError",
    "from_ts",
    "open_store",
    "process_identity",
    "ts",
]
