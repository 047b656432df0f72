"""The commune's announcements in the chat: offered once (after a receipt), "/thongbao" to
see or change the choice, and the one-tap «Không nhận thông báo nữa» under every announcement.

Who is subscribed is the database's to say: "/thongbao" asks ``bot/``
(:class:`AnnouncementChoice`), which answers with a follow-up payload ``tbst:<status>``; the
offer after a receipt is ``bot/``'s follow-up ``tbmoi`` (sent once per chat). Opting in and
out are effects (:class:`OptIn`, :class:`OptOut`); the button under an announcement carries
the subscription's token (``tbtat:<token>``), which ``bot/`` checks, so a forged or old button
changes nothing and is answered as a choice no longer valid.

```mermaid
stateDiagram-v2
    [*] --> offer: receipt sent (tbmoi, once) or /thongbao -> AnnouncementChoice (tbst:none)
    offer --> [*]: «Nhận thông báo» -> OptIn(commune)
    offer --> [*]: «Không, cảm ơn»
    [*] --> subscribed: /thongbao (tbst:in)
    subscribed --> [*]: «Không nhận thông báo nữa» -> OptOut
    [*] --> [*]: «Không nhận thông báo nữa» under an announcement -> OptOut(token)
```
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.flow import Flow, Turn
from dialogs.model import Button, Effect, Reply, Step
from dialogs.texts import announcements as texts
from dialogs.texts import common as ctexts

ASK = "tb"  # /thongbao
STATUS = "tbst"  # bot/'s answer to AnnouncementChoice: tbst:<in|out|asked|none|closed>
OFFER = "tbmoi"  # bot/'s follow-up after a receipt, once per chat
YES = "tbnhan"
NO = "tbkhong"
STOP = "tbtat"  # tbtat (from /thongbao) or tbtat:<token> (under an announcement)
TOKEN_MAX = 32
_MENU = ((Button(ctexts.BTN_MENU, "menu"),),)


@dataclass(frozen=True, slots=True)
class AnnouncementChoice(Effect):
    """Ask the database what this chat chose; answered by ``tbst:<status>``."""


@dataclass(frozen=True, slots=True)
class OptIn(Effect):
    """This chat takes ``commune_code``'s announcements."""

    commune_code: str


@dataclass(frozen=True, slots=True)
class OptOut(Effect):
    """Stop this chat's announcements; ``token`` is the pressed button's ("" from the
    "/thongbao" screen, where the chat's own subscription is meant)."""

    token: str = ""


def stop_button(token: str) -> Button:
    """The one-tap button under every announcement."""
    return Button(texts.BTN_STOP, f"{STOP}:{token}")


def _offer(turn: Turn) -> Step:
    rows = ((Button(texts.BTN_YES, YES), Button(texts.BTN_NO, NO)),)
    text = texts.offer(turn.ctx.commune.name)
    return Step(state=turn.state, replies=(Reply(text, buttons=rows),))


def _on_ask(turn: Turn, argument: str) -> Step | None:
    if argument:
        return None
    return Step(state=turn.state, effects=(AnnouncementChoice(),))


def _on_status(turn: Turn, status: str) -> Step | None:
    if status == "in":
        rows = ((Button(texts.BTN_STOP, STOP),), *_MENU)
        text = texts.subscribed(turn.ctx.commune.name)
        return Step(state=turn.state, replies=(Reply(text, buttons=rows),))
    if status == "closed":  # a channel announcements do not reach (the terminal)
        return Step(state=turn.state, replies=(Reply(texts.NOT_HERE, buttons=_MENU),))
    if status in ("out", "asked", "none"):
        return _offer(turn)
    return None


def _on_offer(turn: Turn, argument: str) -> Step | None:
    return _offer(turn) if not argument else None


def _on_yes(turn: Turn, argument: str) -> Step | None:
    if argument:
        return None
    return Step(state=turn.state, effects=(OptIn(turn.ctx.commune.code),))


def _on_no(turn: Turn, argument: str) -> Step | None:
    if argument:
        return None
    return Step(state=turn.state, replies=(Reply(texts.DECLINED, buttons=_MENU),))


def _on_stop(turn: Turn, token: str) -> Step | None:
    if len(token) > TOKEN_MAX or not all(c.isalnum() or c in "-_" for c in token):
        return None  # not a token we ever wrote: a choice no longer valid
    return Step(state=turn.state, effects=(OptOut(token),))


FLOW = Flow(
    name="announcements",
    verbs={
        ASK: _on_ask,
        STATUS: _on_status,
        OFFER: _on_offer,
        YES: _on_yes,
        NO: _on_no,
        STOP: _on_stop,
    },
    commands={"/thongbao": ASK},
)

__all__ = [
    "ASK",
    "FLOW",
    "NO",
    "OFFER",
    "STATUS",
    "STOP",
    "YES",
    "AnnouncementChoice",
    "OptIn",
    "OptOut",
    "stop_button",
]
