"""What the tests of several workers on one database share: a form of free-text questions
whose replies say which question comes next, and how to read them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.app import Knowledge
from dialogs import filing_draft as fd
from dialogs.model import Reply
from dialogs.texts import filing as ftexts
from knowledge.catalogue import Catalogue, load_catalogue
from knowledge.model import FilingForm, FormField, Procedure
from knowledge.search import Searcher

CODE = "9.999998"
QUESTIONS = 8
PROCEDURE = Procedure(
    code=CODE,
    name="Thủ tục thử nhiều tiến trình",
    field="Thử nghiệm",
    form=FilingForm(
        fields=tuple(
            FormField(f"cau_{n}", "text", f"Nội dung thứ {n}") for n in range(1, QUESTIONS + 1)
        )
    ),
    result_by_post=False,
)
_ASKED = re.compile(r"Câu (\d+)/(\d+)")
REVIEW = QUESTIONS + 1  # what a reply "asks" once every question is answered


def knowledge_with_form() -> Knowledge:
    catalogue = Catalogue([*load_catalogue().all(), PROCEDURE])
    return Knowledge(catalogue, Searcher(catalogue))


def asked(replies: Sequence[Reply]) -> int:
    """The number of the question these replies ask, or REVIEW when they ask none."""
    for reply in reversed(replies):
        found = _ASKED.search(reply.text)
        if found:
            return int(found.group(1))
    return REVIEW


def for_self_payload(replies: Sequence[Reply]) -> str:
    for reply in replies:
        for button in reply.flat_buttons():
            if button.text == ftexts.BTN_FOR_SELF:
                return button.payload
    raise AssertionError(f"no 'for myself' button in {[r.text for r in replies]!r}")


def answers(state: dict[str, Any] | None) -> dict[str, str]:
    """The draft's answers to the form's questions in ``state``: field name -> the text."""
    draft = fd.read_draft(state) if isinstance(state, dict) else None
    assert draft is not None, f"no draft in {state!r}"
    return {
        name: str(answer["value"])
        for name, answer in draft["answers"].items()
        if name.startswith("f:cau_")
    }
