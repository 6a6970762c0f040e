"""Normalised demo mentions of the default config, for tests of the pipeline's child processes."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from smcc.config import default_config
from smcc.models import Mention
from smcc.pipeline import normalise
from smcc.sources.demo import DemoCatalog, demo_mentions

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SEED = 7


@functools.cache
def default_catalog() -> DemoCatalog:
    config = default_config()
    return DemoCatalog.build(
        "demo", config.brands, config.competitors, list(config.analysis.languages)
    )


def demo_batch(start: int, count: int) -> list[Mention]:
    """Demo mentions start … start+count-1 (seed 7, all received at T0), as normalise left them."""
    mentions = demo_mentions(SEED, start, count, default_catalog(), T0)
    normalise(mentions)
    return mentions
