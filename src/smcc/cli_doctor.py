"""`smcc doctor`: a table of what each configured source needs fixed; exit 1 when anything fails."""

from __future__ import annotations

import asyncio
import json

import click
from rich.table import Table
from rich.text import Text

from smcc.cli import EXIT_PROBLEM, Ctx, common, fail, out, pass_ctx
from smcc.doctor import diagnose, has_failures
from smcc.sources.base import CheckStatus

STYLES = {
    CheckStatus.OK: "green",
    CheckStatus.WARN: "yellow",
    CheckStatus.FAIL: "bold red",
    CheckStatus.SKIPPED: "dim",
}


@click.command("doctor")
@click.option("--source", "names", multiple=True, metavar="NAME", help="Only this source.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds each source may take to answer.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@common
@pass_ctx
def doctor_cmd(ctx: Ctx, names: tuple[str, ...], timeout: float, as_json: bool) -> None:
    """Check every configured source: credentials present, endpoint reachable, auth accepted,
    rate-limit budget. Exits 1 when something must be fixed."""
    config, _ = ctx.config()
    if not config.sources:
        fail("no sources in the config; add one under [sources.NAME]", EXIT_PROBLEM)
    findings = asyncio.run(diagnose(config, names, limit=timeout))
    if as_json:
        rows = [
            {
                "source": f.source,
                "type": f.type,
                "check": f.check.what,
                "status": str(f.check.status),
                "detail": f.check.detail,
                "fix": f.check.fix,
            }
            for f in findings
        ]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        table = Table(title="smcc doctor", title_justify="left")
        for column in ("source", "type", "check", "status", "detail", "what to do"):
            table.add_column(column, overflow="fold")
        for f in findings:
            status = f.check.status
            table.add_row(
                Text(f.source),
                Text(f.type),
                Text(f.check.what),
                Text(str(status), style=STYLES[status]),
                Text(f.check.detail),
                Text(f.check.fix),
            )
        out.print(table)
    if has_failures(findings):
        raise SystemExit(EXIT_PROBLEM)
