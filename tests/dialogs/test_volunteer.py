"""The volunteer dialog on its own (no database): what it asks, what it hands ``bot/``, and
what a forged or stale payload gets. The answers ``bot/`` gives (``tnvst:…``, ``tnvok``) are
sent here as the payloads ``bot/`` would feed back."""

from __future__ import annotations

from dialogs import behalf
from dialogs import volunteer as flow
from dialogs.model import SubmitDossier
from dialogs.texts import filing as ftexts
from dialogs.texts import validation as vtexts
from dialogs.texts import volunteer as texts
from dialogs.texts.common import STALE_CHOICE
from tests.dialogs.test_filing import FormChat, fill_until, real_birth, send_photos


def _approved_with_villager(chat: FormChat) -> None:
    chat.say("/start")
    chat.send(payload=f"{flow.STATUS}:approved:khai")
    assert texts.ASK_VILLAGER_NAME in chat.text
    assert any(isinstance(e, flow.DropConsentPhotos) for e in chat.effects)
    chat.say("trần thị hoa")
    chat.say("031198001234")
    chat.say("0912345678")


def test_a_handover_code_is_read_only_after_the_word_nhan() -> None:
    assert flow.handover_code_in("NHAN K7M3PX") == "K7M3PX"
    assert flow.handover_code_in("  nhận   k7m3px ") == "K7M3PX"
    assert flow.handover_code_in("K7M3PX") is None  # a bare word is a question, not a code
    assert flow.handover_code_in("nhan hồ sơ") is None
    assert flow.handover_code_in("NHAN K7M3P0") is None  # 0 is not in the alphabet
    chat = FormChat()
    chat.say("/start")
    chat.say("Nhận K7M3PX")
    assert chat.effects == (flow.RedeemHandover("K7M3PX"),)


def test_tinhnguyen_asks_the_chat_first_and_then_name_phone_branch() -> None:
    chat = FormChat()
    chat.say("/tinhnguyen")
    assert chat.effects == (flow.CheckVolunteer(),)
    chat.send(payload=f"{flow.STATUS}:none")
    assert texts.ASK_NAME in chat.text
    chat.say("Tú 123")
    assert vtexts.NAME_HAS_DIGITS in chat.text
    chat.say("nguyễn văn tú")
    chat.say("0987 654 321")
    assert texts.ASK_BRANCH in chat.text
    chat.say("Chi đoàn thôn Đông")
    assert chat.effects == (
        flow.ApplyVolunteer("Nguyễn Văn Tú", "0987654321", "Chi đoàn thôn Đông", "10642"),
    )
    assert chat.state is not None and chat.state["mode"] == "qa"


def test_forged_follow_ups_do_not_skip_the_consent() -> None:
    chat = FormChat()
    chat.say("/start")
    chat.send(payload=flow.CONSENTED)  # no villager, no consent asked for
    assert STALE_CHOICE in chat.text
    _approved_with_villager(chat)
    chat.send(payload=f"{flow.PICK}:{real_birth().code}")  # consent given, not yet audited
    assert STALE_CHOICE in chat.text
    chat.say("để tôi xem")  # neither yes nor no: asked again, nothing recorded
    assert texts.CONSENT_UNCLEAR in chat.text and chat.effects == ()
    chat.say("đồng ý")
    assert isinstance(chat.effects[0], flow.RecordConsent)


def test_a_typed_consent_goes_to_bot_then_the_form_opens_filled_in_for_that_draft_only() -> None:
    chat = FormChat()
    _approved_with_villager(chat)
    chat.say("đồng ý")
    (recorded,) = chat.effects
    assert isinstance(recorded, flow.RecordConsent)
    assert recorded.kind == "typed" and recorded.text == "đồng ý"
    assert dict(recorded.villager) == {
        "name": "Trần Thị Hoa",
        "id_number": "031198001234",
        "phone": "0912345678",
    }
    chat.send(payload=flow.CONSENTED)
    assert texts.ASK_PROCEDURE in chat.text
    chat.send(payload=f"{flow.PICK}:{real_birth().code}")
    assert texts.prefilled("Trần Thị Hoa", texts.PREFILLED_KINDS) in chat.text
    # Name and ID filled in, filer too: the form opens with its own relation question, put
    # to the villager, not to the volunteer holding the phone.
    assert chat.asked() == "requester_relation"
    assert "Bà con là gì của cháu ạ?" in chat.text and "Bạn là gì" not in chat.text
    chat.press("Bà")
    # Numbered among the questions asked: the villager's phone, given before, is not one.
    assert "Câu 2/10: Bà con sinh ngày nào ạ?" in chat.text
    assert chat.state is not None
    draft_id = chat.draft["id"]
    filed_for = behalf.on_behalf(chat.state, draft_id)
    assert filed_for is not None and filed_for["id_number"] == "031198001234"
    assert filed_for["consent"]["kind"] == "typed"
    # Another draft (a filing of the volunteer's own) is not in the villager's name.
    assert behalf.on_behalf(chat.state, "another-draft") is None


def test_no_or_stop_drops_the_villager_and_any_consent_photo() -> None:
    chat = FormChat()
    _approved_with_villager(chat)
    chat.say("không")
    assert texts.CONSENT_REFUSED in chat.text
    assert chat.effects == (flow.DropConsentPhotos(),)
    assert chat.state is not None and behalf.KEY not in chat.state
    _approved_with_villager(chat)
    chat.press(texts.BTN_STOP)
    assert texts.STOPPED in chat.text
    assert chat.effects == (flow.DropConsentPhotos(),)


def test_a_filing_for_the_villager_carries_them_to_the_office() -> None:
    chat = FormChat()
    _approved_with_villager(chat)
    chat.say("đồng ý")
    chat.send(payload=flow.CONSENTED)
    chat.send(payload=f"{flow.PICK}:{real_birth().code}")
    assert chat.state is not None
    fill_until(chat)
    send_photos(chat)
    while ftexts.BTN_SEND not in chat.labels:
        chat.press(chat.labels[0] if ftexts.BTN_COUNTER in chat.labels else ftexts.BTN_SKIP)
    chat.press(ftexts.BTN_SEND)
    (submit,) = chat.effects
    assert isinstance(submit, SubmitDossier)
    assert submit.on_behalf_of is not None
    assert submit.on_behalf_of["name"] == "Trần Thị Hoa"
    assert submit.filer["for_self"] is False
    assert submit.fields["requester_id_number"] == "031198001234"
