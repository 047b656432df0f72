"""Zalo webhook events: the signature check and the translation into Inbound values."""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from dialogs.model import Attachment, Button, Contact, ConversationKey, Reply
from handlers.zalo import inbound_from_event, render_text, verify_signature
from handlers.zalo_client import split_text

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
APP_ID = "360846524940903967"
OA_ID = "388613280878808645"
SECRET = "oa-secret-key"
# Longer than a double's 53 bits: parsing it as a number would change it.
USER = "2468458835296197922"

TEXT_EVENT = {
    "app_id": APP_ID,
    "sender": {"id": USER},
    "user_id_by_app": "552177279717587730",
    "recipient": {"id": OA_ID},
    "event_name": "user_send_text",
    "message": {"text": "  làm giấy khai sinh  ", "msg_id": "96d3cdf3af150460909"},
    "timestamp": "1699003881354",
}


def signed(event: dict[str, Any], first: str = APP_ID, secret: str = SECRET) -> tuple[bytes, str]:
    raw_body = json.dumps(event, ensure_ascii=False).encode()
    mac = hashlib.sha256(
        (first + raw_body.decode() + event["timestamp"] + secret).encode()
    ).hexdigest()
    return raw_body, "mac=" + mac


def test_a_correctly_signed_body_is_accepted() -> None:
    raw_body, header = signed(TEXT_EVENT)
    assert verify_signature(raw_body, header, app_id=APP_ID, secret=SECRET)
    # Without the "mac=" prefix and in capitals it is the same hash.
    bare = header.removeprefix("mac=").upper()
    assert verify_signature(raw_body, bare, app_id=APP_ID, secret=SECRET)


def test_a_tampered_body_or_wrong_secret_or_missing_header_is_refused() -> None:
    raw_body, header = signed(TEXT_EVENT)
    tampered = raw_body.replace(b"khai sinh", "kết hôn".encode())
    assert not verify_signature(tampered, header, app_id=APP_ID, secret=SECRET)
    assert not verify_signature(raw_body, header, app_id=APP_ID, secret="other")
    assert not verify_signature(raw_body, None, app_id=APP_ID, secret=SECRET)
    assert not verify_signature(raw_body, "", app_id=APP_ID, secret=SECRET)
    assert not verify_signature(raw_body, "mac=", app_id=APP_ID, secret=SECRET)
    # An empty configured secret must never make an empty-secret signature valid.
    _, no_secret = signed(TEXT_EVENT, secret="")
    assert not verify_signature(raw_body, no_secret, app_id=APP_ID, secret="")
    assert not verify_signature(b"not json", header, app_id=APP_ID, secret=SECRET)


def test_the_timestamp_inside_the_body_is_part_of_the_signature() -> None:
    raw_body, header = signed(TEXT_EVENT)
    replayed = raw_body.replace(b"1699003881354", b"1699003881355")
    assert not verify_signature(replayed, header, app_id=APP_ID, secret=SECRET)


def test_the_oa_id_variant_is_accepted_only_when_configured() -> None:
    raw_body, header = signed(TEXT_EVENT, first=OA_ID)
    assert not verify_signature(raw_body, header, app_id=APP_ID, secret=SECRET)
    assert verify_signature(raw_body, header, app_id=APP_ID, secret=SECRET, oa_id=OA_ID)


def test_text_event_becomes_text_inbound_with_string_ids() -> None:
    inbound = inbound_from_event(TEXT_EVENT, AT)
    assert inbound is not None
    assert inbound.key == ConversationKey(channel="zalo", chat_id=USER, user_id=USER)
    assert inbound.message_id == "96d3cdf3af150460909"
    assert inbound.text == "làm giấy khai sinh"
    assert inbound.payload is None
    assert inbound.received_at == AT


def test_image_event_becomes_photo_attachment() -> None:
    event = {
        **TEXT_EVENT,
        "event_name": "user_send_image",
        "message": {
            "msg_id": "f2ab1ee5e5a50cf955b6",
            "text": "",
            "attachments": [
                {
                    "type": "image",
                    "payload": {
                        "thumbnail": "https://cdn.example/thumb.jpg",
                        "url": "https://cdn.example/full.jpg",
                    },
                }
            ],
        },
    }
    inbound = inbound_from_event(event, AT)
    assert inbound is not None
    assert inbound.message_id == "f2ab1ee5e5a50cf955b6"
    assert inbound.attachments == (Attachment(kind="photo", ref="https://cdn.example/full.jpg"),)


def test_several_images_in_one_message_share_a_group() -> None:
    images = [{"type": "image", "payload": {"url": f"https://cdn.example/{i}.jpg"}} for i in (1, 2)]
    event = {
        **TEXT_EVENT,
        "event_name": "user_send_image",
        "message": {"msg_id": "g1", "attachments": images},
    }
    inbound = inbound_from_event(event, AT)
    assert inbound is not None
    assert [a.ref for a in inbound.attachments] == [
        "https://cdn.example/1.jpg",
        "https://cdn.example/2.jpg",
    ]
    assert {a.group_id for a in inbound.attachments} == {"g1"}


def test_file_event_becomes_document_with_name_and_size() -> None:
    event = {
        **TEXT_EVENT,
        "event_name": "user_send_file",
        "message": {
            "msg_id": "8fa2f0a29e1e77422e0d",
            "attachments": [
                {
                    "type": "file",
                    "payload": {
                        "size": "233947",
                        "name": "to-khai.pdf",
                        "checksum": "db8f0a790d28e3d8658a0ff0846189",
                        "type": "pdf",
                        "url": "https://cdn.example/to-khai.pdf",
                    },
                }
            ],
        },
    }
    inbound = inbound_from_event(event, AT)
    assert inbound is not None
    (document,) = inbound.attachments
    assert document.kind == "document"
    assert document.ref == "https://cdn.example/to-khai.pdf"
    assert document.filename == "to-khai.pdf"
    assert document.size == 233947
    assert document.mime_type == "application/pdf"


def test_follow_starts_the_conversation() -> None:
    event = {
        "oa_id": OA_ID,
        "follower": {"id": USER},
        "user_id_by_app": "552172779717587730",
        "event_name": "follow",
        "source": "oa_profile",
        "app_id": APP_ID,
        "timestamp": "1543979782740",
    }
    inbound = inbound_from_event(event, AT)
    assert inbound is not None
    assert inbound.text == "/start"
    assert inbound.key.user_id == USER
    assert inbound.message_id == f"follow:{USER}:1543979782740"


def test_submitted_info_becomes_the_senders_own_contact() -> None:
    base = {
        "sender": {"id": USER},
        "recipient": {"id": OA_ID},
        "event_name": "user_submit_info",
        "app_id": APP_ID,
        "timestamp": "1540368141908",
    }
    nested = {**base, "info": {"name": "Bà Ba", "phone": "84912345678", "address": "Thôn 2"}}
    flat = {**base, "name": "Bà Ba", "phone": "84912345678"}
    for event in (nested, flat):
        inbound = inbound_from_event(event, AT)
        assert inbound is not None
        assert inbound.contact == Contact(phone="84912345678", user_id=USER)
        assert inbound.message_id == f"submit_info:{USER}:1540368141908"


def test_other_events_and_broken_events_are_ignored() -> None:
    ignored: list[dict[str, Any]] = [
        {**TEXT_EVENT, "event_name": "user_seen_message"},
        {**TEXT_EVENT, "event_name": "oa_send_text"},
        {**TEXT_EVENT, "event_name": "user_send_sticker"},
        {**TEXT_EVENT, "event_name": "unfollow"},
        {**TEXT_EVENT, "sender": {"id": 2468458835296197922}},  # a number: digits already lost
        {**TEXT_EVENT, "message": {"text": "chào", "msg_id": ""}},
        {**TEXT_EVENT, "message": {"text": "   ", "msg_id": "m1"}},
        {**TEXT_EVENT, "event_name": "user_send_image", "message": {"msg_id": "m2"}},
        {"event_name": "follow", "timestamp": "1"},
        {**TEXT_EVENT, "event_name": "user_submit_info", "info": {"name": "no phone"}},
    ]
    for event in ignored:
        assert inbound_from_event(event, AT) is None, event


def test_buttons_render_as_numbered_lines_under_the_text() -> None:
    reply = Reply(
        "Chọn một:",
        buttons=((Button("Hỏi về thủ tục", "ask"), Button("Tra cứu", "track")),),
    )
    assert render_text(reply) == "Chọn một:\n1. Hỏi về thủ tục\n2. Tra cứu"
    assert render_text(reply, 4).splitlines()[1:] == ["4. Hỏi về thủ tục", "5. Tra cứu"]


def test_long_text_splits_between_lines_and_loses_nothing() -> None:
    lines = [f"Dòng {i}: " + "giấy tờ cần mang theo " * 4 for i in range(60)]
    text = "\n".join(lines)
    chunks = split_text(text, 2000)
    assert len(chunks) > 1
    assert all(len(c) <= 2000 for c in chunks)
    assert "\n".join(chunks) == text
    # A single line longer than a message is cut at a space.
    long_line = " ".join(["thủtục"] * 700)
    pieces = split_text(long_line, 2000)
    assert all(len(p) <= 2000 for p in pieces)
    assert " ".join(pieces).split() == long_line.split()
