"""The composer: write a reply to one mention, with canned replies and a live character count.

It opens over the operator's screen. The mention, its platform's limit and the canned replies
(in the mention's language, placeholders filled) are read once in a worker; counting is then pure
CPU on each keystroke. Send queues the reply through the outbox in a worker: a refusal (empty,
placeholder left, over the limit, a source that cannot reply) shows in one line and the composer
stays open with the text; success closes it with the outbox item's id.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.events import Key as KeyEvent
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from smcc.models import OutboxItem
from smcc.outbox import OutboxError
from smcc.textclean import one_line
from smcc.tui.data import Canned, ConsoleData, ReplyTarget
from smcc.tui.failures import ShowsFailures
from smcc.tui.format import safe_block
from smcc.tui.keys import COMPOSER_KEYS, bindings


def count_text(target: ReplyTarget | None, text: str) -> Text:
    """`N left` of the platform's limit (red and `N over` past it), or the length without one."""
    if target is None:
        return Text("…", style="dim")
    length = target.length(text)
    unit = "graphemes" if target.platform == "bluesky" else "chars"
    if target.limit is None:
        return Text(f"{length} {unit}", style="dim")
    left = target.limit - length
    if left < 0:
        return Text(f"{-left} over the limit of {target.limit} {unit}", style="bold red")
    return Text(f"{left} left of {target.limit} {unit}", style="yellow" if left < 20 else "")


class ReplyText(TextArea):
    """The reply's text. A terminal sends Alt+1 as Esc then `1`, which Textual reports as key
    `alt+1` *with* the character `1`: a plain TextArea would type the digit. Alt keys are left to
    the composer's bindings instead (Alt+1…9 insert canned replies)."""

    async def _on_key(self, event: KeyEvent) -> None:
        if event.key.startswith("alt+"):
            event.prevent_default()  # not TextArea's handler (it would type); bindings still see it
            return
        await super()._on_key(event)


class CannedScreen(ShowsFailures, ModalScreen[str | None]):
    """Pick a canned reply: a digit picks the reply on that key, Enter the highlighted one."""

    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, canned: list[Canned]) -> None:
        super().__init__()
        self.canned = canned

    def compose(self) -> ComposeResult:
        with Vertical(id="choice"):
            yield Label(Text("Canned reply", style="bold"))
            options = []
            for c in self.canned:
                label = Text(f"{c.key or ' '}  ", style="bold")
                label.append(one_line(c.name), style="bold")
                label.append("  ")
                label.append(one_line(c.text), style="dim")
                options.append(Option(label, id=c.name))
            yield OptionList(*options)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_key(self, event: KeyEvent) -> None:
        if event.key == "escape":
            event.stop()
            self.dismiss(None)
        elif event.character and event.character.isdigit():
            chosen = next((c for c in self.canned if c.key == int(event.character)), None)
            if chosen is not None:
                event.stop()
                self.dismiss(chosen.name)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class ComposerScreen(ShowsFailures, ModalScreen[OutboxItem | None]):
    """Dismisses with the queued outbox item, or None when cancelled.

    With `draft` it reopens one of the operator's drafts (one an approver sent back, say): its
    text to edit, the approver's comment on top, and Send submits it again — a new approval
    round when approval applies."""

    BINDINGS: ClassVar[list[BindingType]] = bindings(COMPOSER_KEYS)

    def __init__(
        self,
        data: ConsoleData,
        mention_id: int | None,
        *,
        draft: OutboxItem | None = None,
        rejected_by: str | None = None,
    ) -> None:
        super().__init__()
        self.data = data
        self.mention_id = mention_id
        self.draft = draft
        self.rejected_by = rejected_by
        self.target: ReplyTarget | None = None
        self.sending = False

    def _what(self) -> str:
        if self.draft is None:
            return f"Reply to #{self.mention_id}"
        if self.mention_id is None:
            return f"Draft {self.draft.id}: post on {one_line(self.draft.source)}"
        return f"Draft {self.draft.id}: reply to #{self.mention_id}"

    def compose(self) -> ComposeResult:
        with Vertical(id="composer"):
            yield Label(Text(self._what(), style="bold"), id="composer-title")
            if self.draft is not None and self.draft.comment:
                said = f"{self.rejected_by or 'approver'}: {self.draft.comment}"
                yield Static(safe_block(said, "italic"), id="composer-comment")
            yield ReplyText(
                self.draft.text if self.draft is not None else "",
                id="composer-text",
                soft_wrap=True,
                tab_behavior="focus",
            )
            yield Static(Text(""), id="composer-canned")
            yield Static(count_text(None, ""), id="composer-count")
            yield Static(Text(""), id="composer-error")
            send = "send" if self.draft is None else "submit again"
            yield Static(
                Text(f"Ctrl+S {send} · Esc cancel · Ctrl+T canned · Alt+1…9 insert", style="dim"),
                id="composer-keys",
            )

    @property
    def area(self) -> TextArea:
        return self.query_one("#composer-text", TextArea)

    def on_mount(self) -> None:
        self.area.focus()
        self.area.move_cursor(self.area.document.end)
        self.load_target()

    def _load(self) -> ReplyTarget | None:
        if self.draft is not None:
            return self.data.draft_target(self.draft)
        return self.data.reply_target(self.mention_id or 0)

    @work(group="composer", exit_on_error=False)
    async def load_target(self) -> None:
        try:
            target = await asyncio.to_thread(self._load)
        except Exception as exc:  # a locked database: say so; Send still goes to the outbox
            self.show_error(f"cannot read mention #{self.mention_id} ({exc})")
            return
        if target is None:
            self.show_error(f"mention #{self.mention_id} is not in the database")
            return
        self.target = target
        m = target.mention
        if m is not None:
            title = Text(f"{self._what()} ", style="bold")
            title.append(one_line("@" + m.author.handle), style="bold")
            title.append(f" · {one_line(m.source)} · {m.language or '??'}", style="dim")
            self.query_one("#composer-title", Label).update(title)
        canned = Text(no_wrap=True, overflow="ellipsis")
        for c in target.canned:
            if c.key is not None:
                canned.append(f"{c.key}", style="bold")
                canned.append(f" {one_line(c.name)}  ")
        self.query_one("#composer-canned", Static).update(canned)
        if target.problem:
            self.show_error(target.problem)
        self.update_count()

    @on(TextArea.Changed)
    def update_count(self) -> None:
        self.query_one("#composer-count", Static).update(count_text(self.target, self.area.text))

    def show_error(self, message: str) -> None:
        line = Text(one_line(message), style="bold red", no_wrap=True, overflow="ellipsis")
        self.query_one("#composer-error", Static).update(line)

    # -- canned replies ----------------------------------------------------------------------------

    def insert(self, canned: Canned) -> None:
        area = self.area
        area.replace(canned.text, *area.selection)
        area.focus()
        self.show_error("")

    def action_insert_canned(self, key: int) -> None:
        if self.target is None:
            return
        canned = self.target.canned_on_key(key)
        if canned is None:
            self.show_error(f"no canned reply on key {key}; see [canned] in the config")
            return
        self.insert(canned)

    def action_pick_canned(self) -> None:
        target = self.target
        if target is None:
            return
        if not target.canned:
            self.show_error("no canned replies configured; see [canned] in the config")
            return

        def chosen(name: str | None) -> None:
            found = next((c for c in target.canned if c.name == name), None)
            if found is not None:
                self.insert(found)
            else:
                self.area.focus()

        self.app.push_screen(CannedScreen(target.canned), chosen)

    # -- send / cancel -----------------------------------------------------------------------------

    def action_send(self) -> None:
        if not self.sending:
            self.sending = True
            self.send(self.area.text)

    def _send(self, text: str) -> OutboxItem:
        if self.draft is not None and self.draft.id is not None:
            return self.data.resubmit(self.draft.id, text)
        return self.data.queue_reply(self.mention_id or 0, text)

    @work(group="composer-send", exit_on_error=False)
    async def send(self, text: str) -> None:
        try:
            item = await asyncio.to_thread(self._send, text)
        except OutboxError as exc:
            self.show_error(str(exc))
            return
        except Exception as exc:  # a locked database: nothing was stored; the text stays here
            self.show_error(f"cannot queue the reply ({exc}); try again")
            return
        finally:
            self.sending = False
        self.dismiss(item)

    def action_cancel(self) -> None:
        self.dismiss(None)
