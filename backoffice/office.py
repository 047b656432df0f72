"""The embedded one-stop-shop office: it receives the dossiers citizens filed in the chat.

The citizen side delivers each dossier through the outbox, at least once: a crash between the
office's commit and the sender's "done" means the same dossier arrives again. Reception is
therefore idempotent by dossier code. The officer workflow (accept, supplement, refuse, ...)
moves the office status later; reception only records status "new" (Mới đăng ký, vietnam.md
§2.4) with its first history step.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.office_dossiers import (
    NewOfficeDossier,
    OfficeCodeConflictError,
    OfficeDossier,
    OfficeDossierRepository,
    OfficeDossierSummary,
    OfficeStatusChange,
)

StatusName = Literal[
    "new",
    "accepted",
    "not_accepted",
    "in_progress",
    "supplement_requested",
    "payment_requested",
    "withdrawn",
    "stopped",
    "processed",
    "result_returned",
]
"""The §2.4 statuses by name (``storage.models.DOSSIER_STATUSES``), spelled out so that the
REST API documents and checks them."""

# Codes are TT 01/2018 style today; TT 03/2025 may bring another shape, so only the alphabet
# is checked here (the citizen side allocated the code, the office only keeps it).
CODE_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,63}$"
COMMUNE_PATTERN = r"^\d{5}$"
RECEIVING_ACTOR = "office:reception"

DossierCodeConflict = OfficeCodeConflictError


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileIn(_Wire):
    """A photo or scan's metadata; the bytes stay in the citizen side's file store."""

    slot: str = Field(min_length=1, max_length=64)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    mime_type: str = Field(min_length=1, max_length=128)
    size: int = Field(ge=0)
    storage_key: str = Field(default="", max_length=255)
    width: int | None = Field(default=None, ge=0)
    height: int | None = Field(default=None, ge=0)


class DeliveryIn(_Wire):
    """How the citizen wants the result: at the counter, or by public post to an address."""

    result_delivery: Literal["counter", "post"] = "counter"
    postal_address: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _post_needs_an_address(self) -> DeliveryIn:
        if self.result_delivery == "post" and not self.postal_address:
            raise ValueError("result_delivery 'post' needs a postal_address")
        return self


class DossierIn(_Wire):
    """A dossier as the citizen side delivers it (the REST API's request body)."""

    code: str = Field(pattern=CODE_PATTERN)
    commune_code: str = Field(pattern=COMMUNE_PATTERN)
    procedure_code: str = Field(min_length=1, max_length=64)
    submitted_at: AwareDatetime
    fields: dict[str, Any]
    files: tuple[FileIn, ...] = Field(default=(), max_length=100)
    filer: dict[str, Any]
    on_behalf_of: dict[str, Any] | None = None
    channel: str = Field(min_length=1, max_length=32)  # the channel it was filed on
    delivery: DeliveryIn = DeliveryIn()
    due_date: date | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """The office's answer to a delivery. ``created`` is False for a redelivery."""

    code: str
    status: str
    received_at: datetime
    created: bool


class OfficeService:
    """Receives and looks up dossiers; the officer workflow will join it here."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._dossiers = OfficeDossierRepository(sessions)
        self._clock = clock

    async def receive(self, dossier: DossierIn, actor: str = RECEIVING_ACTOR) -> Receipt:
        """Keep the dossier once; a repeat of the same code returns the first receipt.

        Raises :class:`DossierCodeConflict` when the code is already held by a dossier of
        another commune or procedure.
        """
        payload = dossier.model_dump(
            mode="json",
            include={"fields", "files", "filer", "on_behalf_of", "channel", "delivery"},
        )
        reception = await self._dossiers.receive(
            NewOfficeDossier(
                code=dossier.code,
                commune_code=dossier.commune_code,
                procedure_code=dossier.procedure_code,
                payload=payload,
                submitted_at=dossier.submitted_at,
                due_date=dossier.due_date,
            ),
            actor=actor,
            now=self._clock(),
        )
        kept = reception.dossier
        return Receipt(
            code=kept.code,
            status=kept.status,
            received_at=kept.received_at,
            created=reception.is_new,
        )

    async def get(self, code: str) -> OfficeDossier | None:
        return await self._dossiers.get(code)

    async def list(
        self, commune_code: str | None = None, status: str | None = None, limit: int = 100
    ) -> builtins.list[OfficeDossierSummary]:
        """Newest first, optionally of one commune and/or one status."""
        return await self._dossiers.list(commune_code, status, limit)


__all__ = [
    "CODE_PATTERN",
    "COMMUNE_PATTERN",
    "DeliveryIn",
    "DossierCodeConflict",
    "DossierIn",
    "FileIn",
    "OfficeDossier",
    "OfficeDossierSummary",
    "OfficeService",
    "OfficeStatusChange",
    "Receipt",
    "StatusName",
]
