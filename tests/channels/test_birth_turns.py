"""A parent registers a newborn's birth in at most 15 turns, on every channel (issue #11).

The transcript (tests.channels.transcript.birth_registration) starts at the parent's first
question and ends at the receipt; every choice in it is a button the channel shows.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.channels.deployment import Deployment
from tests.channels.transcript import (
    BIRTH_CODE,
    BIRTH_FIELDS,
    BIRTH_TURNS,
    CHILD_BORN,
    FILED,
    ChannelDriver,
    Press,
    birth_registration,
    document_photo,
    play,
)


@pytest.fixture(scope="session")
def photo() -> bytes:
    return document_photo()


async def test_a_birth_registration_reaches_its_receipt_in_15_turns_on_every_channel(
    citizen: ChannelDriver, deployment: Deployment, photo: bytes
) -> None:
    steps = birth_registration()
    screens = await play(citizen, steps, photo)

    turns = screens[1:]  # from the question on (the first screen is the chat opening)
    assert len(turns) <= BIRTH_TURNS
    assert FILED in screens[-1].text
    for step, before in zip(steps[1:], screens, strict=False):
        if isinstance(step.action, Press):  # pressed, so it was a button on that screen
            assert step.action.label in before.buttons, (citizen.name, step)
    [dossier] = await deployment.app.dossiers.list()
    assert dossier.procedure_code == BIRTH_CODE
    born = datetime.strptime(CHILD_BORN, "%d/%m/%Y").date()
    assert dossier.fields == {**BIRTH_FIELDS, "child_birth_date": born.isoformat()}
    assert dossier.filer == {
        "for_self": False,
        "relation": "Mẹ",
        "name": "Trần Thị Hoa",
        "phone": "0912345678",
    }
    stored = await deployment.app.files.for_dossier(dossier.id)
    assert sorted(f.slot for f in stored) == ["birth_certificate", "marriage_certificate"]
