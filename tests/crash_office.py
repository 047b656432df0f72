"""A remote back office for tests/test_crash_safety.py: the REST API on its own SQLite file.

Run as ``python -m tests.crash_office DATABASE_URL PORT TOKEN``; the database must be migrated.
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI

from backoffice.api import router
from backoffice.office import OfficeService
from storage.db import create_engine, session_factory


def main(database_url: str, port: int, token: str) -> None:
    office = OfficeService(session_factory(create_engine(database_url)))
    web = FastAPI()
    web.include_router(router(office, token))
    # The access log (one line per POST, 201 or 200) lets the test count redeliveries.
    uvicorn.run(web, host="127.0.0.1", port=port, log_level="info", access_log=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
