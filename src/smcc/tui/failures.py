"""A failing action or handler is shown, not fatal.

Textual ends the app on any exception raised in an action, a message or event handler, or a
callback — and offers no public hook to do otherwise (overriding `App._handle_exception` alone
hangs the app: the message loop that raised has already stopped; Textual issue #2818). So the
console catches them one step earlier, where its own code runs:

- actions: `ConsoleApp.run_action` (public), which every binding, the palette and a click use;
- message and event handlers of the console's panes and screens: `ShowsFailures` wraps
  `MessagePump._dispatch_message` (private: tests/test_console_failures.py pins it against the
  installed Textual);
- callbacks run next (a dialog's result, `call_next`, `set_timer`) and the panes' and screens'
  `set_interval` timers: the callback is wrapped (public).

A failure is logged with its traceback and told to the operator in one line; the app, and the pane
that failed, carry on. Tests set `raise_failures` so that a programming error still fails them.
Failures elsewhere (Textual's own widgets and rendering) stay fatal, as Textual makes them.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any, TypeVar

from textual.actions import ActionParseResult
from textual.app import App
from textual.dom import DOMNode
from textual.message import Message
from textual.message_pump import MessagePump
from textual.timer import Timer, TimerCallback

from smcc.textclean import one_line

log = logging.getLogger(__name__)

R = TypeVar("R")

REPEAT_AFTER = 5.0
"""Seconds before the same failure is notified again (a handler failing on every store change
would otherwise bury the screen in notifications); each one is still logged."""


class FailureShowingApp(App[R]):
    raise_failures = False
    """Re-raise instead (Textual's default: the app ends): the tests' app sets it."""

    def __init__(self) -> None:
        super().__init__()
        self._shown_failures: dict[str, float] = {}

    def failed(self, what: str, error: Exception) -> None:
        """`what` raised `error`: log it, tell the operator in one line, carry on."""
        if self.raise_failures:
            raise error
        log.error("%s failed", what, exc_info=error)
        message = one_line(f"{what} failed: {type(error).__name__}: {error}", 300)
        now = time.monotonic()
        if now - self._shown_failures.get(message, -REPEAT_AFTER) >= REPEAT_AFTER:
            self._shown_failures[message] = now
            self.notify(message, severity="error", markup=False, timeout=10)

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        try:
            return await super().run_action(action, default_namespace, namespaces)
        except Exception as error:
            name = action if isinstance(action, str) else action[1]
            where = type(default_namespace or self).__name__
            self.failed(f"action {name} ({where})", error)
            return True  # the key was handled: it is not offered to anything else

    def call_next(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().call_next(shielded(self, callback, *args, **kwargs))


def report(node: MessagePump, what: str, error: Exception) -> None:
    """Hand a failure to the app, or re-raise it in an app that does not show failures."""
    app = node.app
    if not isinstance(app, FailureShowingApp):
        raise error
    app.failed(what, error)


def shielded(
    node: MessagePump, callback: Callable[..., Any], *args: Any, **kwargs: Any
) -> Callable[[], Awaitable[None]]:
    """`callback(*args, **kwargs)`, its failure reported instead of raised."""
    call = partial(callback, *args, **kwargs)

    async def run() -> None:
        try:
            result = call()
            if inspect.isawaitable(result):
                await result
        except Exception as error:
            report(node, getattr(callback, "__qualname__", repr(callback)), error)

    return run


class ShowsFailures(MessagePump):
    """Mixed into the console's panes and screens: a handler that raises is reported, and this
    node goes on handling messages (Textual would stop its message loop, then end the app)."""

    async def _dispatch_message(self, message: Message) -> None:
        try:
            await super()._dispatch_message(message)
        except Exception as error:
            report(self, f"{type(self).__name__}.{message.handler_name}", error)

    def call_next(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().call_next(shielded(self, callback, *args, **kwargs))

    def set_interval(
        self,
        interval: float,
        callback: TimerCallback | None = None,
        *,
        name: str | None = None,
        repeat: int = 0,
        pause: bool = False,
    ) -> Timer:
        shown = None if callback is None else shielded(self, callback)
        return super().set_interval(interval, shown, name=name, repeat=repeat, pause=pause)
