"""The conversation this assistant holds: its flows, assembled once.

``build_app`` calls :func:`build_dialog` once and hands the result to the conversation service;
tests and benchmarks call it too, so they talk to the same dialog as the app. A new flow is a
``dialogs.flow.Flow`` value exported by its module and one more entry in the tuple below; the
``Dialog`` refuses a verb, mode or command that another flow already has.
"""

from __future__ import annotations

from dialogs import announcements, engine, filing, leaders, lookup, officer, volunteer
from dialogs.engine import Dialog


def build_dialog() -> Dialog:
    return Dialog(
        flows=(
            engine.MENU_FLOW,
            engine.QA_FLOW,
            engine.BROWSE_FLOW,
            filing.FLOW,
            engine.TRACKING_FLOW,
            engine.SUPPLEMENT_FLOW,
            leaders.FLOW,
            lookup.FLOW,
            officer.FLOW,
            volunteer.FLOW,
            announcements.FLOW,
        )
    )
