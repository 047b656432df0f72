"""Telegram update JSON -> Inbound, and reply text -> messages: pure functions, no server."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Any

import pytest

from dialogs.model import Attachment, Contact, ConversationKey
from handlers.telegram import split_text, utf16_units
from handlers.telegram_updates import inbound_from_update
from tests.fakes.telegram_server import (
    CITIZEN,
    OTHER,
    callback_update,
    contact_update,
    document_update,
    message_update,
    photo_update,
    text_update,
)

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
KEY = ConversationKey(channel="telegram", chat_id=str(CITIZEN), user_id=str(CITIZEN))


def test_text_message_becomes_inbound_keyed_by_chat_user_and_update_id() -> None:
    inbound = inbound_from_update(text_update(100000001, "làm giấy khai sinh cần gì"), NOW)
    assert inbound is not None
    assert inbound.key == KEY
    assert inbound.message_id == "u100000001"
    assert inbound.received_at == NOW
    assert inbound.text == "làm giấy khai sinh cần gì"
    assert inbound.payload is None


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("/start", "/start"),
        ("/start thutuc_ks", "/start"),
        ("/start@dvc_test_bot", "/start"),
        ("/help", "menu"),
        ("/HUY", "/huy"),
        ("/hoso", "/hoso"),
        ("/khac", "/khac"),
    ],
)
def test_commands_become_words_the_dialog_knows(typed: str, meant: str) -> None:
    inbound = inbound_from_update(text_update(1, typed), NOW)
    assert inbound is not None and inbound.text == meant


def test_nfd_text_arrives_as_nfc() -> None:
    inbound = inbound_from_update(text_update(1, unicodedata.normalize("NFD", "Hộ tịch")), NOW)
    assert inbound is not None and inbound.text == "Hộ tịch"


def test_button_press_carries_payload_and_the_pressed_label() -> None:
    update = callback_update(7, "track", buttons=(("Đăng ký khai sinh", "proc:ks"),
                                                  ("Tra cứu hồ sơ", "track")))  # fmt: skip
    inbound = inbound_from_update(update, NOW)
    assert inbound is not None
    assert inbound.key == KEY
    assert (inbound.payload, inbound.text, inbound.message_id) == ("track", "Tra cứu hồ sơ", "u7")


def test_button_payload_not_on_the_message_still_passes_without_label() -> None:
    inbound = inbound_from_update(callback_update(7, "menu"), NOW)
    assert inbound is not None and (inbound.payload, inbound.text) == ("menu", "")


@pytest.mark.parametrize("data", ["x" * 65, "ộ" * 22, "", "bad\npayload", 17])
def test_untrusted_callback_data_is_dropped(data: Any) -> None:
    assert inbound_from_update(callback_update(7, data), NOW) is None


def test_largest_photo_size_is_taken_whatever_the_order() -> None:
    inbound = inbound_from_update(photo_update(2, "big", caption="CCCD mặt trước"), NOW)
    assert inbound is not None
    assert inbound.attachments == (Attachment(kind="photo", ref="big", size=112480),)
    assert inbound.text == "CCCD mặt trước"


def test_album_photos_share_their_group() -> None:
    first = inbound_from_update(photo_update(3, "front", group="1381234"), NOW)
    second = inbound_from_update(photo_update(4, "back", group="1381234"), NOW)
    assert first is not None and second is not None
    assert [a.group_id for a in first.attachments + second.attachments] == ["1381234"] * 2
    assert [a.ref for a in first.attachments + second.attachments] == ["front", "back"]


def test_document_keeps_name_type_and_size() -> None:
    inbound = inbound_from_update(document_update(5, "BQACAgUAAxkB"), NOW)
    assert inbound is not None
    assert inbound.attachments == (
        Attachment(
            kind="document",
            ref="BQACAgUAAxkB",
            filename="giay_khai_sinh.pdf",
            mime_type="application/pdf",
            size=482133,
        ),
    )


def test_own_contact_is_accepted() -> None:
    inbound = inbound_from_update(contact_update(6, owner=CITIZEN), NOW)
    assert inbound is not None
    assert inbound.contact == Contact(phone="84912345678", user_id=str(CITIZEN))


@pytest.mark.parametrize("owner", [OTHER, None])
def test_someone_elses_contact_card_is_dropped_but_still_answered(owner: int | None) -> None:
    inbound = inbound_from_update(contact_update(6, owner=owner), NOW)
    assert inbound is not None
    assert inbound.contact is None and inbound.text == "" and inbound.attachments == ()


def test_sticker_gets_an_empty_inbound_so_the_dialog_answers() -> None:
    sticker = {"sticker": {"file_id": "CAAC", "file_unique_id": "s", "width": 512, "height": 512,
                           "is_animated": False, "is_video": False, "type": "regular"}}  # fmt: skip
    inbound = inbound_from_update(message_update(8, sticker), NOW)
    assert inbound is not None and inbound.text == "" and inbound.attachments == ()


@pytest.mark.parametrize(
    "update",
    [
        text_update(9, "xin chào", chat_type="group"),
        text_update(9, "xin chào", chat_type="supergroup"),
        {"update_id": 9, "edited_message": text_update(9, "sửa")["message"]},
        {"update_id": 9, "channel_post": text_update(9, "tin")["message"]},
        message_update(9, {"new_chat_title": "x"}),
        {"update_id": True, "message": text_update(9, "x")["message"]},
        {"update_id": "9", "message": text_update(9, "x")["message"]},
        {"message": text_update(9, "x")["message"]},
        {"update_id": 9, "message": {"text": "no chat"}},
        {"update_id": 9, "message": {**text_update(9, "x")["message"], "from": {"id": "1"}}},
        {"update_id": 9, "callback_query": {"id": "q", "data": "menu", "from": {"id": 1}}},
        [],
        "garbage",
    ],
)
def test_updates_that_are_not_a_private_conversation_are_ignored(update: Any) -> None:
    assert inbound_from_update(update, NOW) is None


def test_a_bot_sender_is_ignored() -> None:
    update = text_update(9, "hi")
    update["message"]["from"]["is_bot"] = True
    assert inbound_from_update(update, NOW) is None


# --- splitting long replies -------------------------------------------------------------------


def test_short_text_is_one_message() -> None:
    assert split_text("Xin chào") == ["Xin chào"]
    assert split_text("  ") == []


def test_long_text_is_cut_at_line_ends_within_the_limit() -> None:
    lines = [f"{i:03d} " + "ệ" * 95 for i in range(50)]  # 5,000 units with the newlines
    chunks = split_text("\n".join(lines))
    assert len(chunks) == 2
    assert all(utf16_units(c) <= 4096 for c in chunks)
    assert "\n".join(chunks).split("\n") == lines


def test_nfd_text_is_measured_after_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "Đăng ký khai sinh cho trẻ em. " * 130)  # ~3,900 NFC
    chunks = split_text(nfd)
    assert chunks == [unicodedata.normalize("NFC", nfd).strip()]


def test_a_line_without_breaks_is_cut_at_spaces_then_anywhere() -> None:
    words = " ".join(["thủtục"] * 1200)
    chunks = split_text(words, limit=100)
    assert all(utf16_units(c) <= 100 for c in chunks)
    assert " ".join(chunks) == words
    emoji = "📱" * 80  # two UTF-16 units each: never cut in the middle of one
    pieces = split_text(emoji, limit=101)
    assert "".join(pieces) == emoji and [utf16_units(p) for p in pieces] == [100, 60]
