"""`smcc reply`, `smcc post`, `smcc schedule` and `smcc outbox` against the Mastodon stand-in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from loopback import LoopbackServer
from mastodon_standin import MastodonStandIn
from outbox_helpers import SOURCE, TOKEN, config_text, store_customer_post
from smcc.cli import main
from smcc.models import OutboxState
from smcc.store import Store


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[MastodonStandIn]:
    monkeypatch.setenv("SMCC_BRAND_MASTODON_ACCESS_TOKEN", TOKEN)
    with LoopbackServer() as server:
        yield MastodonStandIn(server, TOKEN)


@pytest.fixture
def env(standin: MastodonStandIn, tmp_path: Path) -> tuple[Path, Path, int]:
    config = tmp_path / "config.toml"
    config.write_text(
        config_text(standin.server.base_url, "[outbox.approval]\noperators = ['intern']"),
        encoding="utf-8",
    )
    db = tmp_path / "smcc.db"
    with Store.open(db) as store:
        mention_id = store_customer_post(store, standin, "nusantel no signal")
    return config, db, mention_id


def smcc(env: tuple[Path, Path, int], *args: str, stdin: str | None = None) -> Result:
    config, db, _ = env
    return CliRunner().invoke(main, [*args, "--config", str(config), "--db", str(db)], input=stdin)


def test_reply_send_waits_until_sent_and_exits_0(
    env: tuple[Path, Path, int], standin: MastodonStandIn
) -> None:
    result = smcc(env, "reply", str(env[2]), "on it, {author}", "--send")
    assert result.exit_code == 0, result.output
    own = standin.own_statuses()
    assert len(own) == 1
    assert f"sent reply 1 on {SOURCE} as {own[0]['id']}" in result.output
    assert "on it, @dewi" in own[0]["content"]


def test_reply_with_a_template_in_the_mentions_language(
    env: tuple[Path, Path, int], standin: MastodonStandIn
) -> None:
    with Store.open(env[1]) as store:
        store.conn.execute("UPDATE mentions SET language = 'id' WHERE id = ?", (env[2],))
    result = smcc(env, "reply", str(env[2]), "--template", "thanks", "--send", "--json")
    assert result.exit_code == 0, result.output
    item = json.loads(result.output)
    assert item["state"] == "sent"
    assert item["text"].startswith("Terima kasih, @dewi!")


def test_reply_to_a_deleted_post_exits_non_zero_with_the_reason(
    env: tuple[Path, Path, int], standin: MastodonStandIn
) -> None:
    with Store.open(env[1]) as store:
        mention = store.get_mention(env[2])
    assert mention is not None
    standin.deleted.add(mention.external_id)
    result = smcc(env, "reply", str(env[2]), "hello?", "--send")
    assert result.exit_code == 1
    assert "reply 1 failed:" in result.output
    assert "does not appear to exist" in result.output
    shown = smcc(env, "outbox", "list", "--json")
    (item,) = [json.loads(line) for line in shown.output.splitlines()]
    assert item["state"] == "failed"
    assert "does not appear to exist" in item["last_error"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["   "], "smcc: the text is empty"),
        (["order {order} late"], "smcc: placeholder {order} left unfilled"),
        (["y" * 600], "smcc: 606 characters where brand-mastodon (mastodon) allows 500"),
        (["--template", "nope"], "smcc: no template named 'nope' (known: thanks)"),
        (["hi", "--template", "thanks"], "smcc: give the reply's text or a template, not both"),
    ],
)
def test_reply_refusals_are_one_clear_line(
    env: tuple[Path, Path, int], args: list[str], message: str
) -> None:
    result = smcc(env, "reply", str(env[2]), *args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(message), lines
    with Store.open(env[1]) as store:
        assert store.outbox_items() == []


def test_reply_to_an_unknown_mention(env: tuple[Path, Path, int]) -> None:
    result = smcc(env, "reply", "999", "hi")
    assert result.exit_code == 2
    assert "smcc: no mention 999 in the database" in result.output


def test_reply_stdin_bulk(env: tuple[Path, Path, int], standin: MastodonStandIn) -> None:
    mid = env[2]
    lines = "\n".join(
        [
            json.dumps({"mention": mid, "text": "first, {author}"}),
            "not json",
            json.dumps({"mention": mid, "template": "thanks"}),
            json.dumps({"mention": "x", "text": "?"}),
        ]
    )
    result = smcc(env, "reply", "--stdin", "--send", stdin=lines)
    assert result.exit_code == 1  # two bad lines
    rows = [json.loads(line) for line in result.output.strip().splitlines()]
    errors = {r["line"]: r["error"] for r in rows if "error" in r}
    assert set(errors) == {2, 4}
    assert errors[4] == '"mention" must be a mention id (a number)'
    sent = [r for r in rows if r.get("state") == "sent"]
    assert [r["line"] for r in sent] == [1, 3]
    assert len(standin.own_statuses()) == 2


def test_post_schedule_list_move_cancel(env: tuple[Path, Path, int]) -> None:
    result = smcc(env, "post", "--source", SOURCE, "--at", "2099-01-05T09:00", "Promo!")
    assert result.exit_code == 0, result.output
    assert "queued: post 1 on brand-mastodon at 2099-01-05 09:00" in result.output
    listed = smcc(env, "schedule", "list", "--json")
    (item,) = [json.loads(line) for line in listed.output.splitlines()]
    assert item["scheduled_at"].startswith("2099-01-05T09:00")
    moved = smcc(env, "schedule", "move", "1", "2099-01-06T10:30+07:00")
    assert moved.exit_code == 0, moved.output
    with Store.open(env[1]) as store:
        after = store.outbox_item(1)
        assert after is not None
        assert after.scheduled_at is not None
        assert after.scheduled_at.isoformat() == "2099-01-06T03:30:00+00:00"
    assert smcc(env, "schedule", "cancel", "1").exit_code == 0
    again = smcc(env, "schedule", "cancel", "1")
    assert again.exit_code == 1
    assert "item 1 is cancelled; it cannot be cancelled" in again.output
    bad = smcc(env, "post", "--source", SOURCE, "--at", "tomorrow", "x")
    assert bad.exit_code == 2
    assert "--at 'tomorrow': not a time" in bad.output
    # A time long past would only be marked missed: refused, nothing stored.
    before = smcc(env, "schedule", "list", "--all", "--json").output
    past = smcc(env, "post", "--source", SOURCE, "--at", "2020-01-01T09:00", "x")
    assert past.exit_code == 2
    assert "is more than 60 minutes ago ([outbox] missed_after)" in past.output
    assert smcc(env, "schedule", "list", "--all", "--json").output == before
    nowhere = smcc(env, "post", "--source", "nope", "x")
    assert "no source named 'nope'" in nowhere.output


def test_post_from_a_file_goes_out_now(
    env: tuple[Path, Path, int], standin: MastodonStandIn, tmp_path: Path
) -> None:
    text = tmp_path / "post.txt"
    text.write_text("Hari ini promo {brand}!\n", encoding="utf-8")
    result = smcc(env, "post", "--source", SOURCE, "--file", str(text), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["text"] == "Hari ini promo Nusantel!"


def test_approval_from_the_cli(env: tuple[Path, Path, int], standin: MastodonStandIn) -> None:
    result = smcc(env, "reply", str(env[2]), "free phones for all", "--operator", "intern")
    assert "pending_approval: reply 1" in result.output
    waiting = smcc(env, "reply", str(env[2]), "x", "--operator", "intern", "--send")
    assert waiting.exit_code == 1
    assert "waits for approval" in waiting.output
    rejected = smcc(env, "outbox", "reject", "1", "--comment", "no promises", "--operator", "budi")
    assert rejected.exit_code == 0, rejected.output
    self_approval = smcc(env, "outbox", "approve", "1", "--operator", "intern")
    assert self_approval.exit_code == 1
    assert "smcc: an author cannot approve or reject their own item" in self_approval.output
    # Back to its author: in their list, with the approver's comment.
    drafts = ("outbox", "list", "--state", "draft", "--mine", "--json")
    mine = smcc(env, *drafts, "--operator", "intern")
    listed = [json.loads(line) for line in mine.output.splitlines()]
    assert [(i["id"], i["state"], i["comment"]) for i in listed] == [(1, "draft", "no promises")]
    assert smcc(env, *drafts, "--operator", "budi").output == ""
    # Only the author takes it further.
    taken = smcc(env, "outbox", "submit", "1", "mine now", "--operator", "budi")
    assert taken.exit_code == 1
    assert "smcc: item 1 is intern's draft: only intern can submit it" in taken.output
    edited = smcc(env, "outbox", "edit", "1", "we will check, {author}", "--operator", "intern")
    assert edited.exit_code == 0, edited.output
    assert "reply 1 edited (draft)" in edited.output
    bad = smcc(env, "outbox", "edit", "1", "your order {order}", "--operator", "intern")
    assert bad.exit_code == 1
    assert "placeholder {order} left unfilled" in bad.output
    smcc(env, "outbox", "submit", "1", "--operator", "intern")
    assert smcc(env, "outbox", "approve", "1", "--operator", "budi").exit_code == 0
    shown = smcc(env, "outbox", "show", "1", "--json")
    data = json.loads(shown.output)
    assert data["state"] == OutboxState.QUEUED.value
    assert data["approved_by"] == "budi"
    assert "we will check, @" in data["text"]  # {author} filled
    assert [e["action"] for e in data["events"]] == [
        "outbox_created",
        "outbox_rejected",
        "outbox_edited",
        "outbox_submitted",
        "outbox_approved",
    ]
    assert data["events"][2]["detail"]["before"] == "free phones for all"
    assert data["events"][3]["detail"] == {"state": "pending_approval", "edited": False}


MACROS = """
[macros.thank_and_close]
label = "thank, tag, dismiss"
steps = [{ reply = "thanks" }, { tag = "praise" }, { status = "dismissed" }]

[macros.bad_text]
steps = [{ tag = "x" }, { text = "your order {order}" }]
"""


def test_macro_runs_its_steps_in_order(
    env: tuple[Path, Path, int], standin: MastodonStandIn
) -> None:
    config = env[0]
    config.write_text(config.read_text(encoding="utf-8") + MACROS, encoding="utf-8")
    result = smcc(env, "macro", "thank_and_close", str(env[2]), "--send")
    assert result.exit_code == 0, result.output
    assert "reply 1 queued; tagged praise; dismissed" in result.output
    assert "sent reply 1" in result.output
    with Store.open(env[1]) as store:
        mention = store.get_mention(env[2])
        assert mention is not None
        tags = store.conn.execute("SELECT tags FROM mentions WHERE id = ?", (env[2],))
        assert json.loads(tags.fetchone()[0]) == ["praise"]
        # dismissed by the macro, then answered: the sent reply marks it replied
        assert mention.status == "replied"
        actions = [e.action for e in reversed(store.events(env[2]))]
    assert actions[:4] == ["outbox_created", "tag", "dismiss", "macro"]
    assert len(standin.own_statuses()) == 1


def test_a_macro_with_a_bad_text_changes_nothing(env: tuple[Path, Path, int]) -> None:
    config = env[0]
    config.write_text(config.read_text(encoding="utf-8") + MACROS, encoding="utf-8")
    result = smcc(env, "macro", "bad_text", str(env[2]))
    assert result.exit_code == 1
    assert "macro bad_text, step 2: placeholder {order} left unfilled" in result.output
    with Store.open(env[1]) as store:
        assert store.events(env[2]) == []
    unknown = smcc(env, "macro", "nope", str(env[2]))
    assert "no macro named 'nope' (known: bad_text, thank_and_close)" in unknown.output
