import copy
import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.engine import field_key
from dialogs.model import Attachment, Inbound, ListDossiers
from dialogs.texts import common as texts
from knowledge.model import OtherProcedure
from tests.dialogs.transcript import (
    BIRTH,
    BIRTH_AGAIN,
    CUSTOMS,
    DEFAULT_ANSWERS,
    DIALOG,
    KEY,
    MARRIAGE,
    Chat,
    FakeSearch,
    make_context,
)

MENU = ["Hỏi về thủ tục", "Xem thủ tục theo lĩnh vực", "Tra cứu hồ sơ", "Gặp cán bộ"]


def test_first_contact_greets_by_commune_name_with_the_main_menu() -> None:
    chat = Chat()
    chat.say("xin chào")
    assert "Xã Thái Tân" in chat.text
    assert chat.labels == MENU


def test_menu_commands_bring_the_menu_back_from_anywhere() -> None:
    for command in ("/start", "menu", "Bắt đầu", "bat dau", "Chào bạn", "Menu chính"):
        chat = Chat()
        chat.say("kết hôn")
        assert "Đăng ký kết hôn" in chat.text
        chat.say(command)
        assert chat.labels == MENU, command


def test_a_first_message_that_is_a_question_is_answered_straight_away() -> None:
    chat = Chat()
    (reply,) = chat.say("kết hôn")  # one message: on Zalo each is a bubble of its own
    hello, card = reply.text.split("\n\n", 1)
    assert "Xã Thái Tân" in hello
    assert card.startswith("Đăng ký kết hôn\nGiấy tờ: chưa có thông tin")


def test_tracking_button_and_hoso_command_ask_for_the_citizens_dossiers() -> None:
    chat = Chat()
    chat.say("/start")
    chat.press("Tra cứu hồ sơ")
    assert chat.effects == (ListDossiers(),)
    chat.say("xin chào")
    assert chat.effects == ()
    chat.say("/hoso")  # Telegram's command menu, from any mode
    assert chat.effects == (ListDossiers(),)


def test_question_with_one_strong_hit_gets_the_answer_card() -> None:
    chat = Chat()
    chat.say("/start")
    chat.press("Hỏi về thủ tục")
    assert "gõ" in chat.text
    (card,) = chat.say("làm giấy khai sinh")
    assert card.text.startswith("Đăng ký khai sinh\nGiấy tờ cần có:")
    assert len(card.text.splitlines()) <= 10
    assert chat.labels == [
        "Nộp hồ sơ",
        "Xem đủ giấy tờ",
        "Xem chi tiết",
        "Căn cứ pháp lý",
        "Menu chính",
    ]


def test_card_without_a_filing_form_has_no_filing_button() -> None:
    chat = Chat()
    chat.say("/start")
    chat.say("kết hôn")
    assert "Đăng ký kết hôn" in chat.text
    assert chat.labels == ["Xem chi tiết", "Menu chính"]  # nor papers nor legal basis known


def test_close_hits_ask_which_one_and_the_choice_shows_its_card() -> None:
    chat = Chat()
    chat.say("/start")
    chat.say("khai sinh")
    assert chat.text.startswith(texts.WHICH_ONE)
    # What tells them apart, in a few words: the summary's first sentence.
    assert f"• {BIRTH.name}: Đăng ký khai sinh cho trẻ mới sinh tại UBND xã" in chat.text
    assert chat.labels[:2] == [BIRTH.name, BIRTH_AGAIN.name]
    chat.press(BIRTH_AGAIN.name)
    assert chat.text.startswith("Đăng ký lại khai sinh")
    assert "5 ngày làm việc" in chat.text


def test_unknown_question_says_so_and_offers_ways_on() -> None:
    chat = Chat()
    chat.say("/start")
    chat.say("xin cấp phép bay flycam")
    assert "Tôi chưa biết thủ tục này" in chat.text
    assert "0220 3 755 123" in chat.text
    assert chat.labels == ["Xem thủ tục theo lĩnh vực", "Gặp cán bộ", "Menu chính"]


def test_a_question_about_another_offices_procedure_is_told_who_does_it() -> None:
    passport = OtherProcedure(
        code="1.001456",
        name="Cấp hộ chiếu phổ thông ở trong nước (thực hiện tại cấp tỉnh)",
        field="Quản lý xuất nhập cảnh",
        office="Công an cấp Tỉnh",
    )
    search = FakeSearch(dict(DEFAULT_ANSWERS), elsewhere={"làm hộ chiếu cho con": passport})
    chat = Chat(make_context(search=search))
    chat.say("/start")
    chat.say("làm hộ chiếu cho con")
    assert chat.text.startswith("Thủ tục này không có trong danh mục của Xã Thái Tân.")
    assert (
        "thủ tục gần nhất là «Cấp hộ chiếu phổ thông ở trong nước (thực hiện tại cấp tỉnh)», "
        "do Công an cấp Tỉnh giải quyết." in chat.text
    )
    assert "Tôi chưa biết thủ tục này" not in chat.text
    assert "0220 3 755 123" in chat.text
    assert chat.labels == ["Xem thủ tục theo lĩnh vực", "Gặp cán bộ", "Menu chính"]


def test_another_offices_long_name_is_cut_at_a_word_and_no_office_is_made_up() -> None:
    customs = OtherProcedure(
        code="1.000005",
        name="Hải quan đối với khí, nguyên liệu xuất khẩu, nhập khẩu bằng đường ống chuyên dụng "
        "của thương nhân xuất khẩu và các thương nhân nhập khẩu theo biên bản thỏa thuận",
        field="Hải quan",
        office="",
    )
    search = FakeSearch(dict(DEFAULT_ANSWERS), elsewhere={"khí đường ống": customs})
    chat = Chat(make_context(search=search))
    chat.say("/start")
    chat.say("khí đường ống")
    named = chat.text.split("«", 1)[1].split("»", 1)[0]
    assert named.endswith("…") and len(named) <= 121
    assert customs.name.startswith(named[:-1])
    assert f"«{named}»." in chat.text  # no office named when the portal names none


def test_hits_the_catalogue_no_longer_has_count_as_not_known() -> None:
    chat = Chat()
    chat.say("/start")
    chat.say("thủ tục đã bỏ")
    assert "Tôi chưa biết thủ tục này" in chat.text


def test_small_talk_gets_a_short_reply_and_no_search() -> None:
    search = FakeSearch()
    chat = Chat(make_context(search=search))
    chat.say("/start")
    for text, reply in (
        ("cảm ơn", texts.THANKS_REPLY),
        ("Cám ơn bạn nhiều!", texts.THANKS_REPLY),
        ("ok", texts.OK_REPLY),
        ("Dạ vâng ạ", texts.OK_REPLY),
        ("👍", texts.OK_REPLY),
        ("tạm biệt", texts.BYE_REPLY),
    ):
        chat.say(text)
        assert chat.text == reply, text
    chat.say("xin chào")
    assert chat.labels == MENU
    assert search.queries == []


def test_browse_fields_then_a_field_then_a_procedure_card() -> None:
    chat = Chat()
    chat.say("/start")
    chat.press("Xem thủ tục theo lĩnh vực")
    assert "Chọn lĩnh vực (trang 1/2)" in chat.text
    # most procedures first, eight a page
    assert chat.labels[:3] == ["Hải quan (12)", "Hộ tịch (3)", "Chứng thực (1)"]
    assert len(chat.labels) == 8 + 2
    assert chat.labels[-2:] == ["Xem thêm", "Menu chính"]
    chat.press("Xem thêm")
    assert "trang 2/2" in chat.text
    assert chat.labels == [
        "Lĩnh vực 06 (1)",
        "Lĩnh vực 07 (1)",
        "Lĩnh vực 08 (1)",
        "Trang trước",
        "Menu chính",
    ]
    chat.press("Trang trước")
    chat.press("Hộ tịch (3)")
    # curated procedures first, then by name
    assert chat.labels[:3] == ["Đăng ký khai sinh", "Đăng ký kết hôn", "Đăng ký lại khai sinh"]
    assert chat.labels[3:] == ["Lĩnh vực khác", "Menu chính"]
    chat.press("Đăng ký kết hôn")
    assert chat.text.startswith("Đăng ký kết hôn\n")
    chat.press("Xem chi tiết")
    assert chat.text.startswith("Đăng ký kết hôn\nMã thủ tục: 1.000894")


def test_procedures_of_a_big_field_are_paginated() -> None:
    chat = Chat()
    chat.say("/start")
    chat.press("Xem thủ tục theo lĩnh vực")
    chat.press("Hải quan (12)")
    assert "Hải quan: 12 thủ tục (trang 1/2)" in chat.text
    assert chat.labels[:8] == [p.name for p in CUSTOMS[:8]]
    chat.press("Xem thêm")
    assert chat.labels[:4] == [p.name for p in CUSTOMS[8:]]
    chat.press("Trang trước")
    assert chat.labels[0] == CUSTOMS[0].name


def test_typing_a_button_label_works_like_pressing_it() -> None:
    search = FakeSearch()
    chat = Chat(make_context(search=search))
    chat.say("/start")
    chat.say("xem thu tuc theo linh vuc")
    assert "Chọn lĩnh vực" in chat.text
    chat.say("xem thêm")
    assert "trang 2/2" in chat.text
    chat.say("trang truoc")
    chat.say("hộ tịch")  # the label without its count
    assert "Hộ tịch: 3 thủ tục" in chat.text
    chat.say("Đăng ký khai sinh")
    assert chat.text.startswith("Đăng ký khai sinh\nGiấy tờ cần có:")
    chat.say("xem du giay to")
    assert "Mã thủ tục: 1.001193" in chat.text
    assert "Giấy tờ cần nộp:" in chat.text
    assert search.queries == []


def test_garbled_or_stale_payloads_get_a_polite_notice_and_the_menu() -> None:
    garbled = [
        "",
        "nonsense",
        "proc:",
        "proc:9.999999",
        "proc:1.001193:extra",
        "papers:",
        "papers:9.999999",
        "info:1.001193:x",
        "legal:../1.001193",
        "legal:" + "9" * 58,
        "file:9.999999",
        "field:0123456789",
        f"field:{field_key('Hộ tịch')}:abc",
        "browse:0",
        "browse:-1",
        "browse:x",
        "browse:99999",
        "menu:1",
        "track:1",
        "receipt:",
        "receipt:000.00.31.H26-261127-12345",
        "receipt:../../etc",
        "x" * 100,
        "proc:\x00",
        "ask:" + "ậ" * 30,
    ]
    for payload in garbled:
        chat = Chat()
        chat.say("/start")
        chat.send(payload=payload)
        assert chat.text.startswith(texts.STALE_CHOICE), payload
        assert chat.labels == MENU, payload


def test_a_page_beyond_the_end_shows_the_last_page() -> None:
    chat = Chat()
    chat.say("/start")
    chat.send(payload="browse:7")
    assert "trang 2/2" in chat.text


def test_filing_a_procedure_without_a_chat_form_explains_how_to_file_elsewhere() -> None:
    # The card's "Nộp hồ sơ" button now starts the form (tests/dialogs/test_filing.py); a
    # procedure without a form is reached by typing "nộp hồ sơ ..." and gets this answer.
    chat = Chat()
    chat.say("/start")
    chat.send(payload=f"file:{MARRIAGE.code}")
    assert "sắp có" in chat.text
    assert "Thôn Mạc Xá, xã Thái Tân" in chat.text
    assert chat.labels == ["Hỏi thủ tục khác", "Menu chính"]
    chat.press("Hỏi thủ tục khác")
    assert chat.text == texts.ASK_PROMPT


def test_a_photo_while_not_filing_is_answered_with_text_only_notice() -> None:
    chat = Chat()
    chat.say("/start")
    chat.send(attachments=(Attachment(kind="photo", ref="file-1"),))
    assert chat.text == texts.TEXT_ONLY
    assert chat.labels == MENU


def test_unreadable_or_foreign_state_starts_afresh_without_a_crash() -> None:
    for stored in (
        {"version": 99, "mode": "qa"},
        {"version": 1, "mode": "no-such-mode", "buttons": "x"},
        {"version": 1, "buttons": [["a"]]},
        {},
    ):
        chat = Chat(state=stored)
        chat.say("kết hôn")
        assert "Đăng ký kết hôn" in chat.text
        assert chat.state is not None
        assert chat.state["mode"] == "qa"


def test_advance_does_not_change_the_state_it_is_given() -> None:
    chat = Chat()
    chat.say("/start")
    chat.press("Xem thủ tục theo lĩnh vực")
    assert chat.state is not None
    before = copy.deepcopy(chat.state)
    inbound = Inbound(key=KEY, message_id="x", received_at=datetime.now(UTC), text="kết hôn")
    DIALOG.advance(chat.state, inbound, chat.ctx)
    assert chat.state == before


def test_the_state_is_plain_json_with_a_version() -> None:
    chat = Chat()
    chat.say("/start")
    chat.press("Xem thủ tục theo lĩnh vực")
    assert chat.state is not None
    assert json.loads(json.dumps(chat.state)) == chat.state
    assert chat.state["version"] == 1
    assert chat.state["mode"] == "qa"


@settings(max_examples=300, deadline=None)
@given(payload=st.text(max_size=80), text=st.text(max_size=40))
def test_any_payload_gets_an_answer_never_a_crash(payload: str, text: str) -> None:
    ctx = make_context()
    inbound = Inbound(key=KEY, message_id="1", received_at=datetime.now(UTC), text=text)
    state = DIALOG.advance(None, inbound, ctx).state
    pressed = Inbound(
        key=KEY, message_id="2", received_at=datetime.now(UTC), text=text, payload=payload
    )
    step = DIALOG.advance(state, pressed, ctx)
    # "track" (the citizen's dossiers) answers with an effect: bot/ reads them, then the
    # dialog renders the list; every other payload answers at once.
    assert step.replies or step.effects == (ListDossiers(),)
    assert json.loads(json.dumps(step.state)) == step.state
    for reply in step.replies:
        assert all(len(b.payload.encode()) <= 64 for b in reply.flat_buttons())


def test_marriage_card_details_reach_the_chat() -> None:
    chat = Chat()
    chat.say("/start")
    chat.say("kết hôn")
    assert MARRIAGE.name in chat.text
    assert "Lệ phí: Miễn lệ phí" in chat.text
    assert "Nộp trực tuyến: chưa được" in chat.text
    chat.press("Xem chi tiết")
    assert "Làm trực tuyến: chưa được" in chat.text


def test_the_card_buttons_show_the_full_papers_and_the_legal_basis() -> None:
    chat = Chat()
    chat.say("/start")
    chat.say("làm giấy khai sinh")
    chat.press("Xem đủ giấy tờ")
    assert chat.text.startswith("Đăng ký khai sinh\nMã thủ tục: 1.001193\n\nGiấy tờ cần nộp:")
    assert all(paper.name in chat.text for paper in BIRTH.papers)
    # the screen on show is not offered again; filing stays first
    assert chat.labels == ["Nộp hồ sơ", "Xem chi tiết", "Căn cứ pháp lý", "Menu chính"]
    chat.press("Căn cứ pháp lý")
    assert "Căn cứ pháp lý:\n• Luật Hộ tịch 60/2014/QH13" in chat.text
    assert chat.labels == ["Nộp hồ sơ", "Xem đủ giấy tờ", "Xem chi tiết", "Menu chính"]
    chat.press("Xem chi tiết")
    assert "Giờ làm việc: Sáng 7:30–11:30" in chat.text
    chat.press("Nộp hồ sơ")
    assert chat.state is not None and chat.state["mode"] == "filing"


def test_a_detail_button_of_a_procedure_gone_from_the_catalogue_answers_politely() -> None:
    chat = Chat()
    chat.say("/start")
    chat.say("làm giấy khai sinh")
    shown = {b.text: b.payload for b in chat.buttons_shown()}
    chat.ctx = make_context(procedures=(MARRIAGE,))  # a catalogue reload dropped the birth
    for label in ("Xem đủ giấy tờ", "Căn cứ pháp lý", "Xem chi tiết"):
        chat.send(payload=shown[label])
        assert chat.text.startswith(texts.STALE_CHOICE)
        assert chat.labels == MENU
