"""Assembling the dialog from flows: conflicts are refused when it is built, not mid-turn."""

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from dialogs import engine, filing
from dialogs.engine import Dialog
from dialogs.flow import Flow, FlowConflict, Turn
from dialogs.model import Inbound, Reply, Step
from dialogs.texts import common as texts
from tests.dialogs.transcript import DIALOG, KEY, make_context

ENGINE_FLOWS = (engine.MENU_FLOW, engine.QA_FLOW, engine.BROWSE_FLOW, engine.TRACKING_FLOW)


def _say(text: str) -> Callable[[Turn], Step]:
    def handler(turn: Turn) -> Step:
        return Step(state=turn.state, replies=(Reply(text),))

    return handler


def _inbound(text: str = "", payload: str | None = None) -> Inbound:
    return Inbound(
        key=KEY, message_id="1", received_at=datetime.now(UTC), text=text, payload=payload
    )


def test_the_apps_dialog_has_every_flow_once() -> None:
    assert [flow.name for flow in DIALOG.flows] == [
        "menu",
        "qa",
        "browse",
        "filing",
        "tracking",
        "supplement",
        "leaders",
        "lookup",
        "officer",
        "volunteer",
        "announcements",
    ]
    assert DIALOG.verbs == {
        "menu",
        "officer",
        "ask",
        "proc",
        "papers",
        "info",
        "legal",
        "browse",
        "field",
        "form",
        "file",
        "track",
        "receipt",
        "supp",
        "suppdone",
        "suppsend",
        "suppsent",
        "suppcancel",
        "lookupphone",
        "lookupwrong",
        "lookupdone",
        "lookupstop",
        "thongke",
        "lienket",
        "officerend",
        "tnv",
        "tnvst",
        "tnvlai",
        "tnvkhai",
        "tnvds",
        "tnvtrao",
        "tnvanh",
        "tnvstop",
        "tnvok",
        "tnvfile",
        "tnvfiled",
        "tb",
        "tbst",
        "tbmoi",
        "tbnhan",
        "tbkhong",
        "tbtat",
    }
    assert DIALOG.modes == {
        "qa",
        "filing",
        "supplement",
        "lookup",
        "officer",
        "officer_note",
        "volunteer",
    }


def test_a_captive_mode_no_flow_has_is_refused() -> None:
    stray = Flow(name="stray", captive=frozenset({"nowhere"}))
    with pytest.raises(FlowConflict, match="captive mode 'nowhere'"):
        Dialog(flows=(*ENGINE_FLOWS, stray))


def test_a_verb_claimed_twice_is_refused() -> None:
    rival = Flow(name="rival", verbs={engine.FILE: lambda turn, argument: None})
    with pytest.raises(FlowConflict, match="verb 'file' is claimed by flow 'filing' and flow"):
        Dialog(flows=(*ENGINE_FLOWS, filing.FLOW, rival))


def test_a_mode_claimed_twice_is_refused() -> None:
    rival = Flow(name="rival", modes={filing.MODE: _say("mine")})
    with pytest.raises(FlowConflict, match="mode 'filing' is claimed by flow 'filing'"):
        Dialog(flows=(*ENGINE_FLOWS, filing.FLOW, rival))


def test_the_same_flow_twice_is_refused() -> None:
    with pytest.raises(FlowConflict, match="'filing' and flow 'filing'"):
        Dialog(flows=(*ENGINE_FLOWS, filing.FLOW, filing.FLOW))


def test_a_command_claimed_twice_is_refused() -> None:
    rival = Flow(name="rival", commands={"/hoso": engine.MENU})
    with pytest.raises(FlowConflict, match="command '/hoso'"):
        Dialog(flows=(*ENGINE_FLOWS, rival))


@pytest.mark.parametrize(
    ("flow", "message"),
    [
        (Flow(name="x", on_stale={"nowhere": _say("?")}), "on-stale handler for mode 'nowhere'"),
        (Flow(name="x", intercepts={"nowhere": lambda turn: None}), "intercept for mode"),
        (Flow(name="x", commands={"/x": "nothing"}), "no such verb"),
        (Flow(name="x", verbs={"a:b": lambda turn, argument: None}), "has a ':'"),
    ],
)
def test_handlers_for_what_no_flow_has_are_refused(flow: Flow, message: str) -> None:
    with pytest.raises(FlowConflict, match=message):
        Dialog(flows=(*ENGINE_FLOWS, flow))


def test_a_dialog_needs_the_question_mode() -> None:
    with pytest.raises(FlowConflict, match="default mode 'qa'"):
        Dialog(flows=(engine.MENU_FLOW, engine.BROWSE_FLOW))


def test_a_new_flow_adds_a_verb_and_an_intercept_without_touching_the_engine() -> None:
    def on_weather(turn: Turn, argument: str) -> Step | None:
        return Step(state=turn.state, replies=(Reply(f"weather {argument}"),))

    def on_rain(turn: Turn) -> Step | None:
        return _say("umbrella")(turn) if "mưa" in turn.inbound.text else None

    weather = Flow(name="weather", verbs={"weather": on_weather}, intercepts={"qa": on_rain})
    dialog = Dialog(flows=(*ENGINE_FLOWS, weather))
    ctx = make_context()
    state = dialog.advance(None, _inbound("/start"), ctx).state
    assert dialog.advance(state, _inbound(payload="weather:today"), ctx).replies[0].text == (
        "weather today"
    )
    assert dialog.advance(state, _inbound("trời mưa"), ctx).replies[0].text == "umbrella"
    # Left alone by the intercept, the text is a question as before.
    assert "Đăng ký kết hôn" in dialog.advance(state, _inbound("kết hôn"), ctx).replies[0].text


def test_without_the_filing_flow_its_buttons_are_no_longer_valid() -> None:
    dialog = Dialog(flows=ENGINE_FLOWS)
    ctx = make_context()
    step = dialog.advance(None, _inbound(payload="file:1.001193"), ctx)
    assert texts.STALE_CHOICE in step.replies[0].text


def test_the_engine_does_not_import_the_form() -> None:
    code = "import sys, dialogs.engine; assert 'dialogs.filing' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
