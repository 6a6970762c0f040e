"""Macros: a named sequence of steps on one mention (`[macros.NAME]` in config), e.g. reply with
a canned reply, tag it, dismiss it — run by `smcc macro NAME MENTION_ID` and by a key (or the
command palette) in the console, both through :func:`run_macro`.

Every reply step is composed and checked, and every status step checked against the mention's
status and who holds it, before any step runs, so a macro that could not finish changes nothing.
Steps then run in order, each through the store's usual operation with its audit event; a step
the store still refuses (another process changed the mention meanwhile) stops the macro there and
says which. A `macro` event with the operator's name closes the run, naming the macro and the
steps done.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smcc.config import Config, MacroStep
from smcc.models import OutboxItem, Status
from smcc.outbox import Outbox, OutboxError
from smcc.store import Store

STATUS_ACTIONS = {"dismissed": "dismiss", "escalated": "escalate", "new": "release"}
"""A status step's audit event has the name the console's key gives the same change."""


@dataclass
class MacroResult:
    done: list[str] = field(default_factory=list)
    """One line per step done."""
    replies: list[OutboxItem] = field(default_factory=list)


def run_macro(
    store: Store, config: Config, name: str, mention_id: int, operator: str = ""
) -> MacroResult:
    """Run macro `name` on a mention; OutboxError (one line) when it cannot (fully) run."""
    macro = config.macros.get(name)
    if macro is None:
        known = ", ".join(sorted(config.macros)) or "none configured"
        raise OutboxError(f"no macro named '{name}' (known: {known}); see [macros] in config")
    outbox = Outbox(store, config, operator)
    operator = outbox.operator
    for i, step in enumerate(macro.steps, 1):
        if step.reply is not None or step.text is not None:
            try:
                outbox.compose_reply(mention_id, step.text, step.reply)
            except OutboxError as exc:
                raise OutboxError(f"macro {name}, step {i}: {exc}") from None
    _check_statuses(store, name, macro.steps, mention_id, operator)
    result = MacroResult()
    for i, step in enumerate(macro.steps, 1):
        if step.reply is not None or step.text is not None:
            item = outbox.reply(mention_id, step.text, template=step.reply)
            result.replies.append(item)
            result.done.append(f"reply {item.id} {item.state.value}")
        elif step.tag is not None:
            store.tag_mention(mention_id, step.tag, operator)
            result.done.append(f"tagged {step.tag}")
        elif step.status is not None:
            outcome = store.set_status(
                mention_id, Status(step.status), operator, action=STATUS_ACTIONS.get(step.status)
            )
            if not outcome.ok:
                done = "; ".join(result.done) or "nothing"
                store.record_macro(
                    mention_id, name, operator, [*result.done, f"stopped: {outcome.reason}"]
                )
                raise OutboxError(
                    f"macro {name}, step {i} ({step.status}): {outcome.reason} (done: {done})"
                )
            result.done.append(step.status)
    store.record_macro(mention_id, name, operator, result.done)
    return result


def _check_statuses(
    store: Store, name: str, steps: list[MacroStep], mention_id: int, operator: str
) -> None:
    """OutboxError, before any step runs, when a status step could not be taken from where the
    mention is (and where the steps before it leave it), or another operator holds it."""
    mention = store.get_mention(mention_id)
    if mention is None:
        raise OutboxError(f"no mention {mention_id} in the database")
    current = mention.status
    holder = store.claimed_by(mention_id)
    for i, step in enumerate(steps, 1):
        if step.status is None:
            continue
        target = Status(step.status)
        if current is Status.CLAIMED and holder not in (None, operator):
            raise OutboxError(
                f"macro {name}, step {i} ({target}): mention {mention_id} is claimed by "
                f"{holder}; nothing done"
            )
        if not (current.can_become(target) or current is target is Status.CLAIMED):
            raise OutboxError(
                f"macro {name}, step {i}: a {current} mention cannot become {target}; nothing done"
            )
        current = target
        holder = operator if target is Status.CLAIMED else holder
