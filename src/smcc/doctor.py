"""`smcc doctor`: ask every configured source whether it can work, and say what to fix.

Generic over sources: each answers through :meth:`smcc.sources.base.Source.check` (network
sources: credentials present, endpoint reachable, auth accepted, rate-limit budget). Sources are
checked concurrently, each within a time limit, and a source that cannot even be built (a type this
version lacks, a bad secrets file) becomes a failing row instead of an error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from smcc.config import Config
from smcc.sources import SourceUnavailable, build_source
from smcc.sources.base import Check, CheckStatus, Source


@dataclass(frozen=True)
class Finding:
    source: str
    type: str
    check: Check


async def _check_one(name: str, type_: str, source: Source, limit: float) -> list[Finding]:
    try:
        checks = await asyncio.wait_for(source.check(), limit)
    except TimeoutError:
        checks = [
            Check(
                "endpoint",
                CheckStatus.FAIL,
                f"no answer within {limit:g}s",
                "check base_url and the network",
            )
        ]
    except Exception as exc:  # a bug in one source's check must not hide the others
        checks = [Check("check", CheckStatus.FAIL, f"{type(exc).__name__}: {exc}", "report it")]
    finally:
        await source.aclose()
    return [Finding(name, type_, c) for c in checks]


async def diagnose(config: Config, names: Iterable[str] = (), limit: float = 30.0) -> list[Finding]:
    """Findings for the named sources (every configured one when none are named), in order."""
    wanted = list(names) or list(config.sources)
    findings: list[list[Finding]] = []
    jobs: list[tuple[int, Coroutine[Any, Any, list[Finding]]]] = []
    for name in wanted:
        settings = config.sources.get(name)
        if settings is None:
            known = ", ".join(config.sources) or "none configured"
            findings.append(
                [
                    Finding(
                        name,
                        "?",
                        Check("config", CheckStatus.FAIL, "no such source", f"known: {known}"),
                    )
                ]
            )
            continue
        if not settings.enabled:
            findings.append(
                [
                    Finding(
                        name,
                        settings.type,
                        Check("enabled", CheckStatus.SKIPPED, "enabled = false"),
                    )
                ]
            )
            continue
        try:
            source = build_source(name, settings, config)
        except SourceUnavailable as exc:
            findings.append(
                [
                    Finding(
                        name,
                        settings.type,
                        Check("type", CheckStatus.FAIL, str(exc), "set `enabled = false` on it"),
                    )
                ]
            )
            continue
        except Exception as exc:  # a source that cannot even be built is a row, not a crash
            findings.append(
                [
                    Finding(
                        name,
                        settings.type,
                        Check(
                            "build", CheckStatus.FAIL, f"{type(exc).__name__}: {exc}", "report it"
                        ),
                    )
                ]
            )
            continue
        findings.append([])
        jobs.append((len(findings) - 1, _check_one(name, settings.type, source, limit)))
    results = await asyncio.gather(*(job for _, job in jobs))
    for (index, _), result in zip(jobs, results, strict=True):
        findings[index] = result
    return [f for group in findings for f in group]


def has_failures(findings: Iterable[Finding]) -> bool:
    return any(f.check.status is CheckStatus.FAIL for f in findings)
