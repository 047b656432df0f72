"""schemathesis against the office API over real HTTP: no server error, no undocumented answer.

The API (as ``bot.web`` mounts it: the router behind the token gate) runs in uvicorn in its own
thread and event loop, on a migrated SQLite file holding two filed dossiers, one of them moved
on; schemathesis reads the app's own OpenAPI document and sends generated requests, valid and
invalid, with the province token. Every answer must be documented (status code, content type,
body schema) and none may be a 5xx.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backoffice.domain import Accept, Role
from bot.app import Knowledge
from knowledge.dossier_code import format_code
from storage.attachments import FileRepository
from storage.db import create_engine, session_factory
from storage.dossiers import DossierRepository
from storage.files import LocalFileStore
from storage.migrate import upgrade
from tests.backoffice.test_api import PROVINCE, auth, office_app
from tests.backoffice.test_office import VIETNAM, Clock, make_office, submission

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Office(threading.Thread):
    """The API in uvicorn, in a thread of its own, until :meth:`stop`."""

    def __init__(self, folder: Path, knowledge: Knowledge) -> None:
        super().__init__(daemon=True)
        self.folder = folder
        self.knowledge = knowledge
        self.port = _free_port()
        self.ready = threading.Event()
        self.document: dict[str, Any] = {}
        self.failure: BaseException | None = None
        self._server: uvicorn.Server | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to the test, which fails on it
            self.failure = exc
            self.ready.set()

    async def _serve(self) -> None:
        url = f"sqlite+aiosqlite:///{self.folder / 'api.sqlite3'}"
        await upgrade(url)
        engine = create_engine(url)
        sessions = session_factory(engine)
        store = DossierRepository(sessions, timezone=VIETNAM, code_format=format_code)
        office = make_office(store, self.knowledge, Clock())
        first = await office.receive(submission("st-1"))
        await office.receive(submission("st-2"))
        await office.move(first.code, Accept(), actor="officer:a", role=Role.OFFICER)
        web = office_app(office, FileRepository(sessions), LocalFileStore(self.folder / "files"))
        self.document = web.openapi()
        config = uvicorn.Config(web, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        serving = asyncio.create_task(self._server.serve())
        while not self._server.started:  # noqa: ASYNC110 - uvicorn says so only by this flag
            await asyncio.sleep(0.01)
        self.ready.set()
        await serving
        await engine.dispose()

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self.join(10)


@pytest.fixture(scope="module")
def office_server(
    tmp_path_factory: pytest.TempPathFactory, knowledge: Knowledge
) -> Iterator[_Office]:
    server = _Office(tmp_path_factory.mktemp("schemathesis"), knowledge)
    server.start()
    assert server.ready.wait(30), "the office API did not start"
    if server.failure is not None:
        raise server.failure
    yield server
    server.stop()


def _operations(document: dict[str, Any]) -> list[Any]:
    schema = schemathesis.openapi.from_dict(document)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=lambda m: m.value)
def test_no_server_error_and_no_undocumented_answer(
    office_server: _Office, mode: schemathesis.GenerationMode
) -> None:
    """Every operation, with data that fits its schema and with data that does not."""
    base_url = f"http://127.0.0.1:{office_server.port}"
    operations = _operations(office_server.document)
    assert {op.path for op in operations} >= {
        "/api/v1/dossiers",
        "/api/v1/dossiers/{code}",
        "/api/v1/dossiers/{code}/transitions",
    }
    nothing_to_break: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=30,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: Any) -> None:
            case.call_and_validate(base_url=base_url, headers=auth(PROVINCE), checks=CHECKS)

        try:
            call()
        except Unsatisfiable:
            nothing_to_break.append(operation.label)
    # Its one input is a code in the path, and any string is a valid one (the positive run and
    # test_api ask for unknown codes): schemathesis has no invalid request to make of it.
    expected = (
        [] if mode is schemathesis.GenerationMode.POSITIVE else ["GET /api/v1/dossiers/{code}"]
    )
    assert nothing_to_break == expected
