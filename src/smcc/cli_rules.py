"""`smcc rules …`: check, test, eval and backtest the rules of a config.

Registered by `smcc.cli` (which imports this module at its end, after the shared helpers exist).
"""

from __future__ import annotations

import bisect
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table
from rich.text import Text

from smcc import config as cfg
from smcc.cli import EXIT_PROBLEM, EXIT_USAGE, Ctx, _parse_time, common, err, fail, out
from smcc.jsonout import json_text
from smcc.models import Alert, Author, Event, Mention, Sentiment, Triage
from smcc.rules.check import check_rules
from smcc.rules.engine import AlertBoard, Explanation, RuleEngine
from smcc.rules.evaluate import EvalDataError, EvalResult, evaluate, load_queries
from smcc.store import MentionFilter
from smcc.textclean import clean_text, one_line
from smcc.tomllines import key_lines, line_of

if TYPE_CHECKING:  # loaded on use: it brings the language model's code
    from smcc.analysis.analyzer import MentionAnalyzer

pass_ctx = click.make_pass_decorator(Ctx, ensure=True)

MAX_TEXT = 20_000
"""Characters of a `rules test` input that are triaged; longer texts are cut (and say so)."""


@click.group("rules")
def rules_group() -> None:
    """Check, try out, evaluate and backtest the triage rules."""


# ---------------------------------------------------------------------------------------------
# check


@rules_group.command("check")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@common
@pass_ctx
def rules_check(ctx: Ctx, path: Path | None) -> None:
    """Validate the rules; report unreachable rules, terms that add nothing, unused departments.

    Exit 0 when every rule can match (warnings included), 1 when a rule is unreachable, 2 when
    the file is invalid.
    """
    target = path or cfg.find_config(ctx.config_path)
    try:
        config = cfg.load_config(target) if target else cfg.default_config()
    except cfg.ConfigError as exc:
        for problem in exc.problems:
            err.print(Text(str(problem)))
        sys.exit(EXIT_USAGE)
    where = str(target) if target else "<built-in config>"
    lines = key_lines(target.read_text(encoding="utf-8")) if target else {}
    findings = check_rules(config)
    located = sorted(((line_of(lines, f.loc) or 0, f) for f in findings), key=lambda lf: lf[0])
    for line, finding in located:  # in file order
        place = f"{where}:{line}" if line else where
        text = f"{place}: {_dotted(finding.loc)}: {finding.message}"
        (err if finding.severe else out).print(Text(text, style="red" if finding.severe else ""))
    severe = sum(f.severe for f in findings)
    warnings = len(findings) - severe
    out.print(
        Text(
            f"{where}: {len(config.rules)} rules, {len(config.departments)} departments — "
            + (f"{severe} unreachable" if severe else "every rule can match")
            + (f", {warnings} warning{'s' if warnings > 1 else ''}" if warnings else "")
        )
    )
    if severe:
        sys.exit(EXIT_PROBLEM)


def _dotted(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + str(part)
    return text


# ---------------------------------------------------------------------------------------------
# test


@rules_group.command("test")
@click.argument("text", required=False)
@click.option("--lang", metavar="CODE", help="Language (default: detected).")
@click.option("--source", metavar="NAME", default="test", show_default=True)
@click.option("--followers", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--verified", is_flag=True, help="The author is verified.")
@click.option("--sentiment", type=click.FloatRange(-1, 1), help="Sentiment score -1..1.")
@click.option("--question/--no-question", default=None, help="Override question detection.")
@click.option("--brand", metavar="NAME", help="Brand (default: found in the text).")
@click.option("--at", "at", metavar="TIME", help="When it was posted (ISO 8601; default now).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per mention.")
@common
@pass_ctx
def rules_test(
    ctx: Ctx,
    text: str | None,
    lang: str | None,
    source: str,
    followers: int,
    verified: bool,
    sentiment: float | None,
    question: bool | None,
    brand: str | None,
    at: str | None,
    as_json: bool,
) -> None:
    """Triage TEXT (or each line of stdin) with the rules and print why.

    Without TEXT, stdin is read: one text per line, or JSON objects with `text` and optional
    `language`, `source`, `followers`, `verified`, `sentiment`, `is_question`, `brand`,
    `created_at`, `influence`. One JSON object is written per input line; a line that cannot be
    read gives an object with `error`, and the run goes on.
    """
    from smcc.analysis.analyzer import MentionAnalyzer

    config, _ = ctx.config()
    engine = RuleEngine(config)
    analyzer = MentionAnalyzer(config.analysis.languages, config.brands, config.competitors)
    defaults: dict[str, Any] = {
        "language": lang,
        "source": source,
        "followers": followers,
        "verified": verified,
        "sentiment": sentiment,
        "is_question": question,
        "brand": brand,
        "created_at": _parse_time(at, "--at") or datetime.now(UTC),
    }
    if text is not None:
        mention = _mention(text, defaults, analyzer)
        result = _result(engine, mention)
        if as_json:
            click.echo(json_text(result))
        else:
            _print_result(result, mention)
        return
    stdout = sys.stdout
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        stdout.write(json_text(_line(raw, number, engine, analyzer, defaults)))
        stdout.write("\n")
        stdout.flush()


_FIELDS = {
    "language": str,
    "lang": str,
    "source": str,
    "followers": int,
    "verified": bool,
    "sentiment": float,
    "is_question": bool,
    "brand": str,
    "created_at": str,
    "influence": float,
}


def _line(
    raw: bytes,
    number: int,
    engine: RuleEngine,
    analyzer: MentionAnalyzer,
    defaults: dict[str, Any],
) -> dict[str, Any]:
    try:
        line = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        return {"line": number, "error": f"not UTF-8 (byte {exc.start})"}
    fields = dict(defaults)
    record: dict[str, Any] | None = None
    text = line
    if line.lstrip().startswith("{"):
        try:
            parsed = json.loads(line)
        except json.JSONDecodeError as exc:
            return {"line": number, "error": f"not JSON: {exc.msg} (column {exc.colno})"}
        if not isinstance(parsed, dict) or not isinstance(parsed.get("text"), str):
            return {"line": number, "error": "a JSON line needs a string field 'text'"}
        record, text = parsed, parsed["text"]
        for key, kind in _FIELDS.items():
            if key not in parsed or parsed[key] is None:
                continue
            value = parsed[key]
            ok = isinstance(value, kind) or (kind is float and isinstance(value, int))
            if not ok or (kind is int and isinstance(value, bool)):
                return {"line": number, "error": f"field '{key}' must be {kind.__name__}"}
            if key in ("sentiment", "influence") and not (
                (-1 if key == "sentiment" else 0) <= value <= 1
            ):
                low = -1 if key == "sentiment" else 0
                return {"line": number, "error": f"field '{key}' must be between {low} and 1"}
            if key == "followers" and value < 0:
                return {"line": number, "error": "field 'followers' must not be negative"}
            fields["language" if key == "lang" else key] = value
        if isinstance(fields["created_at"], str):
            try:
                when = datetime.fromisoformat(fields["created_at"])
            except ValueError:
                return {"line": number, "error": "field 'created_at' is not an ISO 8601 time"}
            fields["created_at"] = when if when.tzinfo else when.replace(tzinfo=UTC)
    if not text.strip():
        return {"line": number, "error": "empty text"}
    try:
        mention = _mention(text, fields, analyzer)
    except ValueError as exc:  # e.g. a sentiment out of range in a JSON line
        return {"line": number, "error": one_line(str(exc).splitlines()[-1], 200)}
    result = {"line": number, **_result(engine, mention)}
    if len(text) > MAX_TEXT:
        result["truncated"] = True
    if record is not None:
        result["input"] = {k: v for k, v in record.items() if k != "text"}
    return result


def _mention(text: str, fields: dict[str, Any], analyzer: MentionAnalyzer) -> Mention:
    score = fields.get("sentiment")
    mention = Mention(
        source=fields["source"],
        external_id="test",
        author=Author(handle="test", followers=fields["followers"], verified=fields["verified"]),
        text=clean_text(text[:MAX_TEXT]),
        created_at=fields["created_at"],
        brand=fields.get("brand"),
        sentiment=Sentiment(score=score, label=_label(score)),
    )
    analyzer.analyse([mention])
    # What the caller states wins over what the analyzer makes of the text.
    if score is not None:
        mention.sentiment = Sentiment(score=score, label=_label(score), analyzer="given")
    if fields.get("language"):
        mention.language = fields["language"]
    if fields.get("is_question") is not None:
        mention.is_question = fields["is_question"]
    if fields.get("influence") is not None:
        mention.influence = max(0.0, min(1.0, fields["influence"]))
    return mention


def _label(score: float | None) -> Any:
    if score is None:
        return "unknown"
    return "negative" if score < -0.05 else "positive" if score > 0.05 else "neutral"


def _result(engine: RuleEngine, mention: Mention) -> dict[str, Any]:
    triage, explanation = engine.decide(mention)
    return {
        "tier": triage.tier,
        "department": triage.department,
        "rule": triage.rule,
        "tags": triage.tags,
        "score": triage.score,
        "sla_minutes": explanation.sla_minutes,
        "sla_due": triage.sla_due.isoformat() if triage.sla_due else None,
        "reply": explanation.reply,
        "notify": explanation.notify,
        "explanation": explanation.to_dict(),
        "summary": explanation.summary(),
        "mention": {
            "language": mention.language,
            "is_question": mention.is_question,
            "sentiment": mention.sentiment.score,
            "brand": mention.brand,
            "source": mention.source,
            "followers": mention.author.followers,
            "verified": mention.author.verified,
        },
    }


def _print_result(result: dict[str, Any], mention: Mention) -> None:
    facts = result["mention"]
    out.print(Text(f"text:       {one_line(mention.text, 200)}"))
    out.print(
        Text(
            f"facts:      language {facts['language']}, question {facts['is_question']}, "
            f"sentiment {facts['sentiment']}, brand {facts['brand']}, "
            f"followers {facts['followers']:,}"
        )
    )
    sla = f"{result['sla_minutes']:g} min" if result["sla_minutes"] is not None else "none"
    out.print(
        Text(
            f"tier {result['tier']}, department {result['department']}, rule {result['rule']}, "
            f"SLA {sla}, score {result['score']:g}"
        )
    )
    if result["tags"]:
        out.print(Text("tags:       " + ", ".join(result["tags"])))
    if result["reply"]:
        out.print(Text(f"reply:      {result['reply']}"))
    if result["notify"]:
        out.print(Text("notify:     yes"))
    explanation = result["explanation"]
    if not explanation["matched"]:
        out.print(Text("why:        no rule matched: configured default"))
    for match in explanation["matched"]:
        out.print(Text(f"why:        {match['rule']}: " + "; ".join(match["held"])))
    if explanation["defaults"]:
        out.print(Text("default:    " + ", ".join(explanation["defaults"])))


# ---------------------------------------------------------------------------------------------
# eval


@rules_group.command("eval")
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("../shared/data/routing"),
    show_default=True,
    help="Folder with banking77_train.csv and banking77_departments.json.",
)
@click.option(
    "--split",
    type=click.Choice(["heldout", "dev", "all"]),
    default="heldout",
    show_default=True,
    help="Queries for the confusion table: held out (~20 %), development (the rest), or all.",
)
@click.option("--errors", type=click.IntRange(min=0), default=0, help="Show N misrouted queries.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@common
@pass_ctx
def rules_eval(ctx: Ctx, data: Path, split: str, errors: int, as_json: bool) -> None:
    """Department accuracy, fraud recall and confusion table of the rules on BANKING77 queries."""
    config, _ = ctx.config()
    engine = RuleEngine(config)
    try:
        results = {
            "heldout": evaluate(engine, load_queries(data, "heldout")),
            "dev": evaluate(engine, load_queries(data, "dev")),
        }
    except EvalDataError as exc:
        fail(str(exc))
    combined = EvalResult(
        total=results["heldout"].total + results["dev"].total,
        correct=results["heldout"].correct + results["dev"].correct,
        confusion=results["heldout"].confusion + results["dev"].confusion,
        fraud_total=results["heldout"].fraud_total + results["dev"].fraud_total,
        fraud_tier1=results["heldout"].fraud_tier1 + results["dev"].fraud_tier1,
        errors=results["heldout"].errors + results["dev"].errors,
    )
    results["all"] = combined
    chosen = results[split]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "accuracy": {k: round(r.accuracy, 4) for k, r in results.items()},
                    "queries": {k: r.total for k, r in results.items()},
                    "split": split,
                    "confusion": {f"{e}->{p}": n for (e, p), n in sorted(chosen.confusion.items())},
                    "fraud_tier1": _rounded(chosen.fraud_recall),
                    "fraud_recall": {k: _rounded(r.fraud_recall) for k, r in results.items()},
                }
            )
        )
        return
    parts = (("heldout", "held out"), ("dev", "development"), ("all", "all"))
    for name, label in parts:
        r = results[name]
        out.print(
            Text(f"department accuracy, {label}: {r.accuracy:.3f} ({r.correct:,} of {r.total:,})")
        )
    for name, label in parts:
        r = results[name]
        if r.fraud_recall is not None:
            out.print(
                Text(
                    f"fraud → fraud at tier 1, {label}: {r.fraud_recall:.3f}"
                    f" ({r.fraud_tier1:,} of {r.fraud_total:,})"
                )
            )
    names = chosen.departments()
    table = Table(title=f"confusion ({split}): rows = expected, columns = routed to")
    table.add_column("expected", no_wrap=True)
    for name in names:
        table.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    table.add_column("recall", justify="right")
    per = chosen.per_department()
    for expected in names:
        if expected not in per:
            continue
        right, total = per[expected]
        cells = [str(chosen.confusion.get((expected, p), 0) or "·") for p in names]
        table.add_row(Text(expected), *cells, f"{right / total:.2f}")
    out.print(table)
    for query, got in chosen.errors[:errors]:
        out.print(Text(f"{query.department} → {got}: {one_line(query.text, 120)}"))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


# ---------------------------------------------------------------------------------------------
# backtest


class AlertHistory:
    """All alerts ever raised, to tell which were active at a given moment."""

    def __init__(self, alerts: list[Alert]) -> None:
        self._alerts = alerts
        times = {a.since for a in alerts} | {a.cleared_at for a in alerts if a.cleared_at}
        self._bounds = sorted(times)
        """Moments at which the set of active alerts changes: between two, it is constant."""
        self._shown: int | None = None

    def active_at(self, at: datetime) -> list[Alert]:
        return [
            a.model_copy(update={"cleared_at": None})  # "active" as the board understands it
            for a in self._alerts
            if a.since <= at and (a.cleared_at is None or a.cleared_at > at)
        ]

    def show(self, board: AlertBoard, at: datetime) -> None:
        """Make `board` hold the alerts active at `at` (a bisect when nothing changed)."""
        span = bisect.bisect_right(self._bounds, at)
        if span != self._shown:
            board.update(self.active_at(at))
            self._shown = span


@rules_group.command("backtest")
@click.option("--since", metavar="TIME", help="Only mentions created at or after (ISO 8601).")
@click.option("--apply", "apply", is_flag=True, help="Store the new triage (default: dry run).")
@common
@pass_ctx
def rules_backtest(ctx: Ctx, since: str | None, apply: bool) -> None:
    """Re-triage stored mentions with the current rules; show before/after per tier and
    department. Changes nothing unless --apply."""
    config, _ = ctx.config()
    where = MentionFilter(since=_parse_time(since, "--since"))
    with ctx.store(config, create=False) as store:
        # Alert conditions see the alerts that were active when each mention was created, not
        # today's: a past mention must not be re-triaged "during" a crisis that came later.
        history = AlertHistory(store.alerts(include_cleared=True, limit=1_000_000))
        board = AlertBoard()
        engine = RuleEngine(config, board)
        before_tier: Counter[str] = Counter()
        after_tier: Counter[str] = Counter()
        before_dept: Counter[str] = Counter()
        after_dept: Counter[str] = Counter()
        changes: list[tuple[int, Triage]] = []
        total = changed = 0
        for mention in store.iter_mentions(where):
            history.show(board, mention.created_at)
            old = mention.triage
            new = engine.decide(mention)[0]
            total += 1
            before_tier[_tier(old)] += 1
            after_tier[_tier(new)] += 1
            before_dept[old.department if old and old.department else "(none)"] += 1
            after_dept[new.department] += 1
            if old is None or _differs(old, new):
                changed += 1
                if apply and mention.id is not None:
                    changes.append((mention.id, new))
            if len(changes) >= 1000:
                store.update_triage(changes)
                changes.clear()
        if apply:
            store.update_triage(changes)
            store.add_event(
                Event(
                    actor=config.operator.name,
                    action="rules_backtest_applied",
                    detail={"since": since, "mentions": total, "changed": changed},
                )
            )
    out.print(_compare("tier", before_tier, after_tier))
    out.print(_compare("department", before_dept, after_dept))
    verb = "re-triaged" if apply else "would change (dry run; --apply stores it)"
    out.print(Text(f"{total:,} mentions checked; {changed:,} {verb}"))


def _tier(triage: Triage | None) -> str:
    return f"tier {triage.tier}" if triage else "(none)"


def _differs(old: Triage, new: Triage) -> bool:
    return (old.tier, old.department, old.rule, old.tags, old.score, old.sla_due) != (
        new.tier,
        new.department,
        new.rule,
        new.tags,
        new.score,
        new.sla_due,
    ) or Explanation.from_json(old.explanation) != Explanation.from_json(new.explanation)


def _compare(title: str, before: Counter[str], after: Counter[str]) -> Table:
    table = Table(title=f"by {title}")
    table.add_column(title)
    for column in ("before", "after", "change"):
        table.add_column(column, justify="right")
    for name in sorted(set(before) | set(after)):
        delta = after[name] - before[name]
        table.add_row(Text(name), f"{before[name]:,}", f"{after[name]:,}", f"{delta:+,}")
    return table
