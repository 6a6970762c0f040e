"""`smcc reply`, `smcc post`, `smcc schedule …` and `smcc outbox …`: the outbox from the shell.

Everything goes through `smcc.outbox.Outbox` (the same calls the console makes). Sending is done
by the holder of the ingest lease; `--send` waits until the item is sent or failed — and when no
process holds the lease, takes it for as long as it takes to send this item.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
import zoneinfo
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from smcc.cli import EXIT_PROBLEM, EXIT_USAGE, Ctx, common, err, fail, out, pass_ctx
from smcc.config import Config
from smcc.ingest import LEASE, LEASE_TTL, RENEW_EVERY
from smcc.jsonout import json_text
from smcc.macros import run_macro
from smcc.models import OutboxItem, OutboxState, utcnow
from smcc.outbox import Outbox, OutboxError, Sender, parse_time
from smcc.store import Store, process_identity
from smcc.textclean import one_line

WAIT_DEFAULT = 60.0


def parse_at(value: str, config: Config) -> datetime:
    """`--at`: ISO 8601 (no zone: the operator's time zone) or `+DURATION` from now."""
    try:
        return parse_time(value, config.operator.timezone, utcnow())
    except ValueError as exc:
        raise OutboxError(f"--at {value!r}: {exc}") from None


def not_too_old(when: datetime, value: str, config: Config) -> datetime:
    """`when`, unless it is further in the past than `[outbox] missed_after`: such a post would
    only be marked missed, so the time is refused (a time a little in the past means now)."""
    limit = config.outbox.missed_after
    if when < utcnow() - limit:
        raise OutboxError(
            f"--at {value!r} ({_local(when, config)}) is more than "
            f"{round(limit.total_seconds() / 60)} minutes ago ([outbox] missed_after): the post "
            "would be missed; give a later time, e.g. +5m"
        )
    return when


def _local(value: datetime | None, config: Config) -> str:
    if value is None:
        return ""
    return value.astimezone(zoneinfo.ZoneInfo(config.operator.timezone)).strftime("%Y-%m-%d %H:%M")


def item_json(item: OutboxItem) -> dict[str, Any]:
    return item.model_dump(mode="json")


async def wait_settled(store: Store, config: Config, item_ids: list[int], timeout: float) -> None:
    """Until every item is sent, failed (or otherwise done) or waits for an approver. While no
    process holds the ingest lease, this one takes it and sends them itself."""
    holder = process_identity()
    deadline = time.monotonic() + timeout
    sender: Sender | None = None
    renewer: asyncio.Task[None] | None = None

    async def renew() -> None:  # a send may take longer than the lease lives
        while True:
            await asyncio.sleep(RENEW_EVERY)
            await asyncio.to_thread(store.acquire_lease, LEASE, holder, LEASE_TTL)

    try:
        while True:
            items = [store.outbox_item(i) for i in item_ids]
            waiting = [
                i
                for i in items
                if i is not None and i.state in (OutboxState.QUEUED, OutboxState.SENDING)
            ]
            if not waiting or time.monotonic() > deadline:
                return
            if await asyncio.to_thread(store.acquire_lease, LEASE, holder, LEASE_TTL):
                if sender is None:
                    sender = Sender(store, config, holder=holder)
                    renewer = asyncio.create_task(renew())
                    await sender.start()
                now = utcnow()
                for item in waiting:
                    due = (
                        item.state is OutboxState.QUEUED
                        and (item.next_attempt_at is None or item.next_attempt_at <= now)
                        and (item.scheduled_at is None or item.scheduled_at <= now)
                    )
                    if due and item.id is not None:
                        await sender.send(item.id)
            await asyncio.sleep(0.1)
    finally:
        if renewer is not None:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
        if sender is not None:
            await sender.aclose()
            store.release_lease(LEASE, holder)


def _report(item: OutboxItem, as_json: bool) -> bool:
    """Print one line about the item's outcome; True when it is sent."""
    if as_json:
        click.echo(json_text(item_json(item)))
        return item.state is OutboxState.SENT
    what = f"{item.kind} {item.id}"
    if item.state is OutboxState.SENT:
        out.print(Text(f"sent {what} on {item.source} as {item.platform_id}"))
        return True
    if item.state is OutboxState.FAILED:
        err.print(Text(f"smcc: {what} failed: {one_line(item.last_error or '')}", style="red"))
    elif item.state is OutboxState.PENDING_APPROVAL:
        err.print(Text(f"smcc: {what} waits for approval (`smcc outbox approve {item.id}`)"))
    else:
        err.print(Text(f"smcc: {what} is still {item.state.value}: {item.last_error or ''}"))
    return False


# ---------------------------------------------------------------------------------------------
# smcc reply


@click.command("reply")
@click.argument("mention_id", type=int, required=False)
@click.argument("text", required=False)
@click.option("--template", "-t", metavar="NAME", help="A canned reply of [canned] in config.")
@click.option("--send", is_flag=True, help="Wait until sent or failed; exit 0 only when sent.")
@click.option(
    "--stdin", "from_stdin", is_flag=True, help='JSONL: {"mention": ID, "text"|"template": …}'
)
@click.option("--draft", is_flag=True, help="Keep it as a draft (submit later).")
@click.option("--operator", metavar="NAME", help="Author (default: [operator] name).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=WAIT_DEFAULT, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per item.")
@common
@pass_ctx
def reply_cmd(
    ctx: Ctx,
    mention_id: int | None,
    text: str | None,
    template: str | None,
    send: bool,
    from_stdin: bool,
    draft: bool,
    operator: str | None,
    timeout: float,
    as_json: bool,
) -> None:
    """Queue a reply to a stored mention: TEXT or --template NAME (placeholders {author},
    {brand}, {operator}; the template in the mention's language)."""
    config, _ = ctx.config()
    if from_stdin:
        if mention_id is not None or text is not None or template is not None:
            fail(
                "--stdin reads the replies from standard input; "
                "give no MENTION_ID, TEXT or --template with it",
                EXIT_USAGE,
            )
        _reply_stdin(ctx, config, send, draft, operator, timeout)
        return
    if mention_id is None:
        fail("give MENTION_ID and TEXT (or --template NAME), or --stdin", EXIT_USAGE)
    with ctx.store(config, create=False) as store:
        outbox = Outbox(store, config, operator or "")
        try:
            item = outbox.reply(mention_id, text, template=template, draft=draft)
        except OutboxError as exc:
            fail(str(exc), EXIT_USAGE)
        if not send:
            if as_json:
                click.echo(json_text(item_json(item)))
            else:
                out.print(
                    Text(
                        f"{item.state.value}: reply {item.id} to mention {mention_id} "
                        f"on {item.source}"
                    )
                )
            return
        assert item.id is not None
        asyncio.run(wait_settled(store, config, [item.id], timeout))
        done = store.outbox_item(item.id)
        assert done is not None
        if not _report(done, as_json):
            raise SystemExit(EXIT_PROBLEM)


def _reply_stdin(
    ctx: Ctx, config: Config, send: bool, draft: bool, operator: str | None, timeout: float
) -> None:
    failed = False
    queued: list[tuple[int, int]] = []  # (line, item id)
    with ctx.store(config, create=False) as store:
        outbox = Outbox(store, config, operator or "")
        for number, line in enumerate(sys.stdin, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise OutboxError("not a JSON object")
                mention = data.get("mention")
                if not isinstance(mention, int) or isinstance(mention, bool):
                    raise OutboxError('"mention" must be a mention id (a number)')
                text, template = data.get("text"), data.get("template")
                if text is not None and not isinstance(text, str):
                    raise OutboxError('"text" must be a string')
                if template is not None and not isinstance(template, str):
                    raise OutboxError('"template" must be a string')
                item = outbox.reply(mention, text, template=template, draft=draft)
            except (ValueError, OutboxError) as exc:
                failed = True
                message = str(exc) if isinstance(exc, OutboxError) else f"not JSON ({exc})"
                click.echo(json_text({"line": number, "error": message}))
                continue
            assert item.id is not None
            queued.append((number, item.id))
            if not send:
                click.echo(json_text({"line": number, **item_json(item)}))
        if send and queued:
            asyncio.run(wait_settled(store, config, [i for _, i in queued], timeout))
            for number, item_id in queued:
                done = store.outbox_item(item_id)
                assert done is not None
                failed |= done.state is not OutboxState.SENT
                click.echo(json_text({"line": number, **item_json(done)}))
    if failed:
        raise SystemExit(EXIT_PROBLEM)


# ---------------------------------------------------------------------------------------------
# smcc post, smcc schedule


@click.command("post")
@click.argument("text", required=False)
@click.option("--source", "source", required=True, metavar="NAME", help="Where to post.")
@click.option("--at", "at", metavar="TIME", help="When: ISO 8601 (your time zone) or +2h.")
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--draft", is_flag=True, help="Keep it as a draft.")
@click.option("--operator", metavar="NAME", help="Author (default: [operator] name).")
@click.option("--json", "as_json", is_flag=True)
@common
@pass_ctx
def post_cmd(
    ctx: Ctx,
    text: str | None,
    source: str,
    at: str | None,
    file: Path | None,
    draft: bool,
    operator: str | None,
    as_json: bool,
) -> None:
    """Schedule a post (TEXT or --file F) on a source, now or --at TIME."""
    config, _ = ctx.config()
    if (text is None) == (file is None):
        fail("give the post's TEXT or --file F (one of them)", EXIT_USAGE)
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"{file}: cannot read ({exc})", EXIT_USAGE)
    assert text is not None
    with ctx.store(config) as store:
        try:
            when = not_too_old(parse_at(at, config), at, config) if at is not None else None
            item = Outbox(store, config, operator or "").post(source, text, when, draft=draft)
        except OutboxError as exc:
            fail(str(exc), EXIT_USAGE)
        if as_json:
            click.echo(json_text(item_json(item)))
        else:
            when_text = _local(item.scheduled_at, config) or "now"
            out.print(Text(f"{item.state.value}: post {item.id} on {source} at {when_text}"))


@click.group("schedule")
def schedule_group() -> None:
    """The content calendar: planned posts."""


@schedule_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also sent, failed, cancelled and missed.")
@click.option("--source", "sources", multiple=True, metavar="NAME")
@click.option("--json", "as_json", is_flag=True)
@common
@pass_ctx
def schedule_list(ctx: Ctx, show_all: bool, sources: tuple[str, ...], as_json: bool) -> None:
    """Planned posts by time (missed ones are always shown)."""
    config, _ = ctx.config()
    states = (
        ()
        if show_all
        else (
            OutboxState.DRAFT,
            OutboxState.PENDING_APPROVAL,
            OutboxState.QUEUED,
            OutboxState.SENDING,
            OutboxState.MISSED,
        )
    )
    with ctx.store(config) as store:
        items = store.outbox_items(states=states, kind="post", sources=sources)
    if as_json:
        for item in items:
            click.echo(json_text(item_json(item)))
        return
    table = Table(title=f"scheduled posts ({config.operator.timezone})", title_justify="left")
    for column in ("id", "when", "source", "state", "by", "text"):
        table.add_column(column, overflow="fold")
    for item in items:
        style = "red" if item.state in (OutboxState.MISSED, OutboxState.FAILED) else ""
        table.add_row(
            str(item.id),
            _local(item.sent_at or item.scheduled_at or item.created_at, config),
            Text(item.source),
            Text(item.state.value, style=style),
            Text(item.operator),
            Text(one_line(item.text)[:80]),
        )
    out.print(table)


@schedule_group.command("cancel")
@click.argument("item_id", type=int)
@click.option("--comment", default="", help="Why (kept in the audit log).")
@common
@pass_ctx
def schedule_cancel(ctx: Ctx, item_id: int, comment: str) -> None:
    """Cancel a planned post (or a reply not yet sent)."""
    _act(ctx, lambda o: o.cancel(item_id, comment), "cancelled")


@schedule_group.command("move")
@click.argument("item_id", type=int)
@click.argument("at", metavar="TIME")
@common
@pass_ctx
def schedule_move(ctx: Ctx, item_id: int, at: str) -> None:
    """Give a planned (or missed) post a new time: ISO 8601 (your time zone) or +2h."""
    config, _ = ctx.config()
    try:
        when = not_too_old(parse_at(at, config), at, config)
    except OutboxError as exc:
        fail(str(exc), EXIT_USAGE)
    _act(ctx, lambda o: o.move(item_id, when), f"moved to {_local(when, config)}")


def _act(ctx: Ctx, action: Any, done: str, operator: str | None = None) -> None:
    config, _ = ctx.config()
    with ctx.store(config, create=False) as store:
        try:
            item = action(Outbox(store, config, operator or ""))
        except OutboxError as exc:
            fail(str(exc))
        out.print(Text(f"{item.kind} {item.id} {done} ({item.state.value})"))


# ---------------------------------------------------------------------------------------------
# smcc outbox


@click.group("outbox")
def outbox_group() -> None:
    """Replies and posts on their way out: list, show, approve, reject, retry."""


@outbox_group.command("list")
@click.option("--state", "states", multiple=True, type=click.Choice([s.value for s in OutboxState]))
@click.option("--mine", is_flag=True, help="Only items written by --operator (your drafts, …).")
@click.option("--operator", metavar="NAME", help="Who you are (default: [operator] name).")
@click.option("--json", "as_json", is_flag=True)
@common
@pass_ctx
def outbox_list(
    ctx: Ctx, states: tuple[str, ...], mine: bool, operator: str | None, as_json: bool
) -> None:
    """Items (default: all but sent and cancelled — failed and missed ones need a look). A
    draft an approver sent back shows the approver's comment."""
    config, _ = ctx.config()
    wanted = [OutboxState(s) for s in states] or [
        s for s in OutboxState if s not in (OutboxState.SENT, OutboxState.CANCELLED)
    ]
    author = (operator or config.operator.name) if mine else None
    with ctx.store(config) as store:
        items = store.outbox_items(states=wanted, operator=author)
    if as_json:
        for item in items:
            click.echo(json_text(item_json(item)))
        return
    table = Table(title="outbox", title_justify="left")
    # The comment and error columns only when an item has one: the table fits 80 columns.
    notes = [
        (name, get)
        for name, get in (("comment", _comment_of), ("last error", _error_of))
        if any(get(item) for item in items)
    ]
    for column in ("id", "kind", "source", "state", "tries", "by", "mention", "text"):
        table.add_column(column, overflow="fold")
    for name, _ in notes:
        table.add_column(name, overflow="fold")
    for item in items:
        table.add_row(
            str(item.id),
            item.kind,
            Text(item.source),
            item.state.value,
            str(item.attempts),
            Text(item.operator),
            str(item.mention_id or ""),
            Text(one_line(item.text)[:60]),
            *(Text(one_line(get(item))[:60]) for _, get in notes),
        )
    out.print(table)


def _comment_of(item: OutboxItem) -> str:
    return item.comment or ""


def _error_of(item: OutboxItem) -> str:
    return item.last_error or ""


@outbox_group.command("show")
@click.argument("item_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@common
@pass_ctx
def outbox_show(ctx: Ctx, item_id: int, as_json: bool) -> None:
    """One item and its audit story."""
    config, _ = ctx.config()
    with ctx.store(config, create=False) as store:
        item = store.outbox_item(item_id)
        if item is None:
            fail(f"no outbox item {item_id}")
        events = store.outbox_events(item_id)
    if as_json:
        data = item_json(item)
        data["events"] = [e.model_dump(mode="json") for e in events]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    out.print(
        Text(
            f"{item.kind} {item.id} on {item.source}: {item.state.value}"
            f"{' (in doubt)' if item.in_doubt else ''}, {item.attempts} attempt(s)"
        )
    )
    out.print(Text(item.text))
    for event in events:
        detail = ", ".join(f"{k}={v}" for k, v in event.detail.items() if v not in (None, ""))
        out.print(
            Text(
                f"  {_local(event.at, config)}  {event.actor:<10} {event.action:<18} "
                f"{one_line(detail)}"
            )
        )


@outbox_group.command("approve")
@click.argument("item_id", type=int)
@click.option("--comment", default="", help="Kept with the item and in the audit log.")
@click.option("--operator", metavar="NAME", help="The approver (default: [operator] name).")
@common
@pass_ctx
def outbox_approve(ctx: Ctx, item_id: int, comment: str, operator: str | None) -> None:
    """Approve an item waiting for approval: it goes to the queue."""
    _act(ctx, lambda o: o.approve(item_id, comment), "approved", operator)


@outbox_group.command("reject")
@click.argument("item_id", type=int)
@click.option("--comment", required=True, help="Why: the author sees it with the draft.")
@click.option("--operator", metavar="NAME", help="The approver (default: [operator] name).")
@common
@pass_ctx
def outbox_reject(ctx: Ctx, item_id: int, comment: str, operator: str | None) -> None:
    """Reject an item waiting for approval: it goes back to its author as a draft."""
    _act(ctx, lambda o: o.reject(item_id, comment), "rejected", operator)


@outbox_group.command("submit")
@click.argument("item_id", type=int)
@click.argument("text", required=False)
@click.option("--operator", metavar="NAME")
@common
@pass_ctx
def outbox_submit(ctx: Ctx, item_id: int, text: str | None, operator: str | None) -> None:
    """Submit a draft (with a new TEXT, e.g. after a rejection) for approval or sending."""
    _act(ctx, lambda o: o.submit(item_id, text), "submitted", operator)


@outbox_group.command("edit")
@click.argument("item_id", type=int)
@click.argument("text")
@click.option("--operator", metavar="NAME", help="The draft's author (default: [operator] name).")
@common
@pass_ctx
def outbox_edit(ctx: Ctx, item_id: int, text: str, operator: str | None) -> None:
    """Give your draft a new TEXT (checked as a new one is); it stays a draft until `submit`."""
    _act(ctx, lambda o: o.edit(item_id, text), "edited", operator)


@outbox_group.command("retry")
@click.argument("item_id", type=int)
@common
@pass_ctx
def outbox_retry(ctx: Ctx, item_id: int) -> None:
    """Queue a failed item again (same idempotency key). If it failed in doubt, look on the
    platform first: it may be there already."""
    _act(ctx, lambda o: o.retry(item_id), "queued again")


# ---------------------------------------------------------------------------------------------
# smcc macro


@click.command("macro")
@click.argument("name")
@click.argument("mention_id", type=int)
@click.option("--send", is_flag=True, help="Wait until its replies are sent or failed.")
@click.option("--operator", metavar="NAME", help="Who runs it (default: [operator] name).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=WAIT_DEFAULT, show_default=True)
@common
@pass_ctx
def macro_cmd(
    ctx: Ctx, name: str, mention_id: int, send: bool, operator: str | None, timeout: float
) -> None:
    """Run macro NAME ([macros.NAME] in config) on a mention: its steps in order."""
    config, _ = ctx.config()
    with ctx.store(config, create=False) as store:
        try:
            result = run_macro(store, config, name, mention_id, operator or "")
        except OutboxError as exc:
            fail(str(exc))
        out.print(Text(f"macro {name} on mention {mention_id}: {'; '.join(result.done)}"))
        ids = [i.id for i in result.replies if i.id is not None]
        if send and ids:
            asyncio.run(wait_settled(store, config, ids, timeout))
            ok = True
            for item_id in ids:
                done = store.outbox_item(item_id)
                assert done is not None
                ok &= _report(done, False)
            if not ok:
                raise SystemExit(EXIT_PROBLEM)


COMMANDS = (reply_cmd, post_cmd, schedule_group, outbox_group, macro_cmd)
