"""The lines a saved step adds to a conversation's transcript, as the citizen saw them.

An officer taking a conversation over reads them (storage.handoffs): what the citizen typed
(a button press as its label, a photo as "[ảnh]"), what the assistant answered, and the
hand-over the step opened or ended. They are written with the step's save, in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from dialogs.model import HandOff, Inbound, OfficerEvent, Step
from storage.handoffs import ASSISTANT, CITIZEN, HandoffChange, Thread

PHOTO = "[ảnh]"
DOCUMENT = "[tệp]"
CONTACT = "[gửi số điện thoại]"
BUTTON = "[bấm nút]"


def citizen_line(inbound: Inbound, shown: Sequence[object] | None) -> str:
    parts: list[str] = []
    text = inbound.text.strip()
    if text:
        parts.append(text)
    elif inbound.payload:
        label = next(
            (
                str(pair[0])
                for pair in shown or ()
                if isinstance(pair, list) and len(pair) == 2 and pair[1] == inbound.payload
            ),
            "",
        )
        parts.append(f"{BUTTON} {label}" if label else BUTTON)
    photos = sum(1 for a in inbound.attachments if a.kind == "photo")
    others = len(inbound.attachments) - photos
    if photos:
        parts.append(PHOTO if photos == 1 else f"[{photos} ảnh]")
    if others:
        parts.append(DOCUMENT)
    if inbound.contact is not None:
        parts.append(CONTACT)
    return " ".join(parts)


def _handoff(step: Step) -> HandoffChange:
    for effect in step.effects:
        if isinstance(effect, HandOff) and effect.action in ("open", "wait", "close"):
            return effect.action  # type: ignore[return-value]
    return ""


def turn_thread(inbound: Inbound | None, step: Step, shown: Sequence[object] | None) -> Thread:
    """A citizen's turn (``inbound``; None for a follow-up of an effect), or an office notice."""
    lines = []
    if inbound is not None:
        said = citizen_line(inbound, shown)
        if said:
            lines.append((CITIZEN, said))
    lines += [(ASSISTANT, reply.text) for reply in step.replies if reply.text]
    return Thread(lines=tuple(lines), handoff=_handoff(step))


def officer_thread(event: OfficerEvent, step: Step) -> Thread:
    """An officer's answer is already in the transcript (the console wrote it); what the
    assistant says around it is not."""
    if event.kind == "answer":
        return Thread()
    return Thread(lines=tuple((ASSISTANT, reply.text) for reply in step.replies if reply.text))
