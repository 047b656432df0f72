"""A flow is the part of the conversation one module owns, as a value: its handlers by name.

Each flow module exports one :class:`Flow` (the engine's menu, questions, browsing and tracking;
``dialogs.filing.FLOW``), and ``dialogs.engine.Dialog`` merges them once at start-up, the way
aiogram's ``Router.include_router`` combines routers: nothing is registered by importing a
module, and two flows claiming the same verb, mode or command are refused at construction.

A flow may fill five extension points, all keyed by plain strings:

* ``verbs``: payload verb -> handler. A payload is ``verb`` or ``verb:argument``; the handler
  gets the argument and returns None when it is no longer valid (the dialog then says so).
* ``modes``: mode -> handler for what is typed or sent while ``state["mode"]`` is that mode.
* ``on_stale``: mode -> handler for a payload nobody understood while in that mode (a half-filled
  form asks its question again rather than dropping the user at the main menu).
* ``intercepts``: mode -> handler that sees the mode's input before the mode's own handler,
  which may belong to another flow; it takes the turn (a Step) or leaves it (None). The form
  catches "nộp hồ sơ khai sinh" and papers for an open draft in the question mode this way.
  An intercept under ``"*"`` sees every mode's input (and a first message) before the mode's
  own intercepts: a dossier code typed anywhere is looked up (``dialogs.lookup``).
* ``commands``: typed command -> the payload it stands for ("/hoso" -> "track").
* ``captive``: modes whose handler takes every input, button presses and menu commands
  included, with no intercept before it: a conversation handed to an officer stays with the
  officer until it is ended on purpose (``dialogs.officer``).
* ``officer_events``: what an officer did in a handed-over conversation, told to the citizen
  (one flow at most has it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dialogs.context import Context
from dialogs.model import Inbound, OfficerEvent, Step


@dataclass(frozen=True, slots=True)
class Turn:
    """One turn being handled. ``state`` is this turn's own copy: handlers may change it."""

    state: dict[str, Any]
    inbound: Inbound
    ctx: Context


# A payload handler gets the argument after "verb:" and returns None when it is not valid.
PayloadHandler = Callable[[Turn, str], Step | None]
ModeHandler = Callable[[Turn], Step]
# An intercept returns None to let the mode's own handler have the turn.
Intercept = Callable[[Turn], Step | None]


@dataclass(frozen=True, slots=True)
class Flow:
    """What one flow adds to the dialog; ``name`` is for the error on a conflict."""

    name: str
    verbs: Mapping[str, PayloadHandler] = field(default_factory=dict)
    modes: Mapping[str, ModeHandler] = field(default_factory=dict)
    on_stale: Mapping[str, ModeHandler] = field(default_factory=dict)
    intercepts: Mapping[str, Intercept] = field(default_factory=dict)
    commands: Mapping[str, str] = field(default_factory=dict)
    captive: frozenset[str] = frozenset()
    officer_events: Callable[[Turn, OfficerEvent], Step] | None = None


class FlowConflict(ValueError):
    """Flows that cannot be assembled: a verb, mode or command claimed twice, or a handler
    for a mode no flow has."""
