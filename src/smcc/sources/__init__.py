"""Sources: one module per platform behind the Source protocol in `base`.

`build_sources` turns the `[sources.NAME]` tables of config.toml into Source objects; modules are
imported only when a source of their type is configured.
"""

from __future__ import annotations

from collections.abc import Iterable

from smcc.config import (
    BlueskySourceConfig,
    Config,
    DemoSourceConfig,
    MastodonSourceConfig,
    RedditSourceConfig,
    ReplaySourceConfig,
    RssSourceConfig,
    SourceConfig,
    TwitterSourceConfig,
    credential,
)
from smcc.sources.base import Fetched, HealthState, Source, SourceError, SourceHealth

__all__ = [
    "Fetched",
    "HealthState",
    "Source",
    "SourceError",
    "SourceHealth",
    "SourceUnavailable",
    "build_source",
    "build_sources",
]


class SourceUnavailable(Exception):
    """A configured source that this version of smcc cannot run."""


def build_source(
    name: str, settings: SourceConfig, config: Config, *, limit: int | None = None
) -> Source:
    if isinstance(settings, DemoSourceConfig):
        from smcc.sources.demo import DemoSource

        return DemoSource(name, settings, config.brands, config.competitors, limit=limit)
    if isinstance(settings, ReplaySourceConfig):
        from smcc.sources.replay import ReplaySource

        return ReplaySource(name, settings, limit=limit)
    if isinstance(settings, MastodonSourceConfig):
        from smcc.sources.mastodon import MastodonSource

        return MastodonSource(name, settings, config)
    if isinstance(settings, RssSourceConfig):
        from smcc.sources.rss import RssSource

        return RssSource(name, settings)
    if isinstance(settings, TwitterSourceConfig):
        from smcc.sources.twitter import TwitterSource

        return TwitterSource(
            name,
            settings,
            [*config.brands, *config.competitors],
            lambda field: credential(config, name, field),
        )
    if isinstance(settings, BlueskySourceConfig):
        from smcc.sources.bluesky import BlueskySource

        return BlueskySource(name, settings, [*config.brands, *config.competitors], config)
    if isinstance(settings, RedditSourceConfig):
        from smcc.sources.reddit import RedditSource

        return RedditSource(name, settings, [*config.brands, *config.competitors], config)
    raise SourceUnavailable(
        f"source '{name}': type '{settings.type}' is not available in this version of smcc; "
        "set `enabled = false` on it"
    )


def build_sources(
    config: Config, names: Iterable[str] = (), *, limit: int | None = None
) -> list[Source]:
    """The named sources (all enabled ones when no names are given)."""
    wanted = list(names)
    for name in wanted:
        if name not in config.sources:
            known = ", ".join(config.sources) or "none configured"
            raise SourceUnavailable(f"no source named '{name}' in the config (known: {known})")
    chosen = wanted or list(config.enabled_sources())
    return [build_source(n, config.sources[n], config, limit=limit) for n in chosen]
