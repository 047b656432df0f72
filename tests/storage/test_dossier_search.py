"""The console's inbox in SQL, on every backend: found by code, by a name typed without tone
marks, by a whole phone or ID number; new dossiers first, then by due date; paged past 200."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.dossiers import DossierQuery, DossierRepository, search_text_of
from tests.storage.test_dossiers import NOW, create, new_dossier


def test_the_search_text_folds_words_and_keeps_whole_numbers() -> None:
    text = search_text_of(
        {"ho_ten": "Đỗ Thị Én", "so_cccd": "001 199 000 222", "so_ban": 2},
        {"name": "Trần Văn An", "phone": "0912.345.678"},
        {"address": {"display": "Thôn Mạc Xá"}},
    )
    assert "| do thi en |" in text and "| tran van an |" in text and "thon mac xa" in text
    assert "#001199000222#" in text and "#0912345678#" in text
    assert "#2#" not in text  # short numbers are not searched as numbers


async def test_search_order_and_pages_run_in_the_database(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dossiers = DossierRepository(sessions)
    en = await create(
        dossiers,
        new_dossier(
            "en",
            fields={"ho_ten": "Đỗ Thị Én", "so_cccd": "001199000222"},
            filer={"name": "Đỗ Thị Én", "phone": "0912345678"},
        ),
    )
    many = await asyncio.gather(
        *(create(dossiers, new_dossier(f"k{n}", at=NOW + timedelta(seconds=n))) for n in range(230))
    )

    async def found(search: str) -> list[str]:
        return [d.code for d in await dossiers.list(DossierQuery(search=search, limit=500))]

    assert await found("do thi en") == [en.code]
    assert await found("Đỗ Thị") == [en.code]
    assert await found("001199000222") == [en.code]
    assert await found("0912 345 678") == [en.code]
    assert await found(en.code[-9:].upper()) == [en.code]
    assert await found("100%_") == []  # LIKE's wildcards are plain characters
    assert len(await found("tran minh khoi")) == 230

    # The inbox's order: dossiers with a due date soonest first, none last; 200 a page.
    soon = many[7]
    async with sessions.begin() as session:
        from sqlalchemy import update

        from storage.models import DossierRow

        await session.execute(
            update(DossierRow).where(DossierRow.id == soon.id).values(due_date=date(2026, 12, 1))
        )
    inbox = DossierQuery(order="inbox", first_statuses=("nothing-new",), limit=200)
    assert await dossiers.count(inbox) == 231
    first = await dossiers.list(inbox)
    second = await dossiers.list(dataclasses.replace(inbox, offset=200))
    assert len(first) == 200 and len(second) == 31
    assert first[0].code == soon.code
    assert {d.code for d in first}.isdisjoint(d.code for d in second)
    assert first[1].received_at <= first[2].received_at  # then the oldest received
    # New ones first when asked.
    newest = await dossiers.list(dataclasses.replace(inbox, first_statuses=("received",)))
    assert newest[0].code == soon.code  # all received: the due date decides
