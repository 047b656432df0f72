"""Operator views of the citizen-side data (``motcua dossiers``)."""

from __future__ import annotations

from typing import Any

from storage.attachments import FileRepository, StoredFile
from storage.dossiers import Dossier, DossierEvent, DossierRepository


def dossier_json(
    dossier: Dossier, events: list[DossierEvent], files: list[StoredFile]
) -> dict[str, Any]:
    return {
        "code": dossier.code,
        "procedure_code": dossier.procedure_code,
        "commune_code": dossier.commune_code,
        "status": dossier.status,
        "received_at": dossier.received_at.isoformat(),
        "due_date": dossier.due_date.isoformat() if dossier.due_date else None,
        "channel": dossier.filer_key.channel,
        "filer": dossier.filer,
        "on_behalf_of": dossier.on_behalf_of,
        "fields": dossier.fields,
        "result_delivery": dossier.result_delivery,
        "postal_address": dossier.postal_address,
        "files": [
            {
                "slot": f.slot,
                "mime_type": f.mime_type,
                "size": f.size,
                "sha256": f.sha256,
                "storage_key": f.storage_key,
            }
            for f in files
        ],
        "history": [
            {"status": e.status, "at": e.at.isoformat(), "actor": e.actor, "note": e.note}
            for e in events
        ],
    }


async def list_dossiers(
    dossiers: DossierRepository,
    files: FileRepository,
    *,
    commune_code: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    result = []
    for dossier in await dossiers.list(commune_code=commune_code, status=status):
        result.append(
            dossier_json(
                dossier, await dossiers.events(dossier.id), await files.for_dossier(dossier.id)
            )
        )
    return result
