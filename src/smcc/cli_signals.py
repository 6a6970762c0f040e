"""`smcc alerts`, `smcc trends`, `smcc share`, `smcc hours`: signals from the store.

Each prints a rich table (untrusted text as `Text`, never markup) or, with `--json`, one JSON
document. `--since` takes an ISO time or a duration back from the end of the stored data ("6h").
"""

from __future__ import annotations

import json
import zoneinfo
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from smcc import config as cfg
from smcc.analysis import reports
from smcc.cli import Ctx, common, fail, out, pass_ctx
from smcc.models import Alert
from smcc.store import Store

SINCE_HELP = "From this time (ISO 8601, UTC if no zone) or this long before the data's end (6h)."


def _since(value: str | None, store: Store, default: timedelta | None) -> datetime | None:
    """--since as a time: ISO 8601, or a duration back from the end of the stored data."""
    end = reports.data_end(store)
    if value is None:
        return end - default if end is not None and default is not None else None
    try:
        back = cfg.parse_duration(value)
    except ValueError:
        pass
    else:
        return (end or datetime.now(UTC)) - back
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--since {value!r}: not a time or a duration; write e.g. 6h, 2d or 2026-11-23T08:00")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _duration(value: str, option: str) -> timedelta:
    try:
        return cfg.parse_duration(value)
    except ValueError as exc:
        fail(f"{option} {value!r}: {exc}")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


# ---------------------------------------------------------------------------------------------
# alerts


def alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "kind": alert.kind.value,
        "brand": alert.brand,
        "keyword": alert.keyword,
        "severity": alert.severity,
        "description": alert.description,
        "since": _iso(alert.since),
        "cleared_at": _iso(alert.cleared_at),
        "active": alert.active,
        "detail": alert.detail,
    }


@click.command("alerts")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--all", "show_all", is_flag=True, help="Cleared alerts too (newest first).")
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True)
@common
@pass_ctx
def alerts_cmd(ctx: Ctx, as_json: bool, show_all: bool, limit: int) -> None:
    """Active alerts (volume spikes, sentiment drops), most severe first; --all for history."""
    config, _ = ctx.config()
    with ctx.store(config, create=False) as store:
        found = store.alerts(include_cleared=show_all, limit=limit)
    if as_json:
        _echo_json({"alerts": [alert_json(a) for a in found]})
        return
    if not found:
        out.print(Text("no active alerts" if not show_all else "no alerts"))
        return
    zone = zoneinfo.ZoneInfo(config.operator.timezone)
    table = Table(title="alerts" if show_all else "active alerts")
    for column in ("sev", "kind", "about", "since", "cleared", "description"):
        table.add_column(column, justify="right" if column == "sev" else "left")
    for a in found:
        about = a.brand or ""
        if a.keyword:
            about = f"{a.keyword} ({about})" if about else a.keyword
        table.add_row(
            Text(str(a.severity), style="bold red" if a.severity >= 7 else ""),
            Text(a.kind.value),
            Text(about),
            Text(f"{a.since.astimezone(zone):%Y-%m-%d %H:%M}"),
            Text(f"{a.cleared_at.astimezone(zone):%H:%M}" if a.cleared_at else "active"),
            Text(a.description),
        )
    out.print(table)


# ---------------------------------------------------------------------------------------------
# trends


@click.command("trends")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--since", metavar="TIME", help="Window start: " + SINCE_HELP + " [default: 1h]")
@click.option(
    "--baseline", default="24h", show_default=True, help="Compared with this long before."
)
@click.option("--min-count", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--min-ratio", type=click.FloatRange(min=1.0), default=3.0, show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@common
@pass_ctx
def trends_cmd(
    ctx: Ctx,
    as_json: bool,
    since: str | None,
    baseline: str,
    min_count: int,
    min_ratio: float,
    limit: int,
) -> None:
    """Trending terms and hashtags: far more frequent in the window than in the baseline."""
    config, _ = ctx.config()
    base = _duration(baseline, "--baseline")
    with ctx.store(config, create=False) as store:
        end = reports.data_end(store)
        start = _since(since, store, timedelta(hours=1))
        found: list[reports.Trend] = []
        if end is not None and start is not None:
            if start >= end:
                fail(
                    f"--since {since}: after the end of the stored data ({end:%Y-%m-%d %H:%M} UTC)"
                )
            found = reports.trends(
                store,
                window=end - start,
                baseline=base,
                end=end,
                min_count=min_count,
                min_ratio=min_ratio,
                limit=limit,
            )
    if as_json:
        _echo_json(
            {
                "window": {"start": _iso(start), "end": _iso(end)},
                "baseline": base.total_seconds(),
                "trends": [
                    {
                        "term": t.term,
                        "hashtag": t.hashtag,
                        "count": t.count,
                        "expected": round(t.expected, 2),
                        "ratio": round(t.ratio, 2) if t.expected > 0 else None,
                        "score": round(t.score, 2),
                    }
                    for t in found
                ],
            }
        )
        return
    if not found:
        out.print(Text("nothing trending"))
        return
    table = Table(title="trending terms")
    for column in ("term", "count", "expected", "×", "score"):
        table.add_column(column, justify="left" if column == "term" else "right")
    for t in found:
        table.add_row(
            Text(t.term, style="cyan" if t.hashtag else ""),
            f"{t.count:,}",
            f"{t.expected:.1f}",
            f"{t.ratio:.1f}" if t.expected > 0 else "new",
            f"{t.score:.1f}",
        )
    out.print(table)


# ---------------------------------------------------------------------------------------------
# share of voice


@click.command("share")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--since", metavar="TIME", help=SINCE_HELP + " [default: everything]")
@click.option(
    "--by", type=click.Choice(["source", "language"]), help="Shares within each source or language."
)
@common
@pass_ctx
def share_cmd(ctx: Ctx, as_json: bool, since: str | None, by: str | None) -> None:
    """Share of voice: mentions of each brand and competitor and their share of all of them."""
    config, _ = ctx.config()
    brands = [b.name for b in config.brands]
    competitors = [c.name for c in config.competitors]
    if not brands and not competitors:
        fail("no [[brands]] or [[competitors]] in the config: nothing to compare", 2)
    with ctx.store(config, create=False) as store:
        start = _since(since, store, None)
        shares = reports.share_of_voice(store, brands, competitors, start=start, by=by)
    if as_json:
        _echo_json(
            {
                "since": _iso(start),
                "by": by,
                "shares": [
                    {
                        "name": s.name,
                        "competitor": s.competitor,
                        "count": s.count,
                        "percent": round(s.percent, 2),
                        **({by: s.group} if by else {}),
                    }
                    for s in shares
                ],
            }
        )
        return
    table = Table(title="share of voice")
    if by:
        table.add_column(by)
    for column in ("name", "", "count", "%"):
        table.add_column(column, justify="right" if column in ("count", "%") else "left")
    for s in shares:
        row = [Text(s.name), Text("competitor" if s.competitor else "brand", style="dim")]
        row += [Text(f"{s.count:,}"), Text(f"{s.percent:.1f}")]
        table.add_row(*([Text(s.group or "")] if by else []), *row)
    out.print(table)


# ---------------------------------------------------------------------------------------------
# busiest hours and weekdays


@click.command("hours")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--since", metavar="TIME", help=SINCE_HELP + " [default: everything]")
@click.option("--brand", "brands", multiple=True, metavar="NAME", help="Only this brand.")
@common
@pass_ctx
def hours_cmd(ctx: Ctx, as_json: bool, since: str | None, brands: tuple[str, ...]) -> None:
    """Busiest hours of the day and weekdays, in the operator's time zone ([operator] timezone)."""
    config, _ = ctx.config()
    zone = config.operator.timezone
    with ctx.store(config, create=False) as store:
        start = _since(since, store, None)
        busy = reports.busiest(store, zone, start=start, brands=brands)
    if as_json:
        _echo_json(
            {
                "timezone": zone,
                "since": _iso(start),
                "days": busy.days,
                "hours": [{"hour": h, "count": c} for h, c in enumerate(busy.hours)],
                "weekdays": [
                    {"weekday": d, "count": c}
                    for d, c in zip(reports.WEEKDAYS, busy.weekdays, strict=True)
                ],
                "busiest_hour": busy.busiest_hour,
                "busiest_weekday": busy.busiest_weekday,
            }
        )
        return
    total = sum(busy.hours) or 1
    top = max(busy.hours) or 1
    table = Table(title=f"mentions by hour ({zone}, {busy.days} days)")
    for column in ("hour", "count", "%", ""):
        table.add_column(column, justify="left" if column == "" else "right")
    for hour, count in enumerate(busy.hours):
        style = "bold" if hour == busy.busiest_hour else ""
        bar = "█" * round(20 * count / top)
        table.add_row(
            Text(f"{hour:02d}:00", style=style), f"{count:,}", f"{100 * count / total:.1f}", bar
        )
    out.print(table)
    days = Table(title="mentions by weekday")
    days.add_column("weekday")
    days.add_column("count", justify="right")
    for name, count in zip(reports.WEEKDAYS, busy.weekdays, strict=True):
        days.add_row(Text(name, style="bold" if name == busy.busiest_weekday else ""), f"{count:,}")
    out.print(days)


COMMANDS = (alerts_cmd, trends_cmd, share_cmd, hours_cmd)
