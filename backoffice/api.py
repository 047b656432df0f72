"""The back office's REST API (OpenAPI by FastAPI): the citizen side delivers dossiers here.

``POST /api/v1/dossiers`` answers 201 the first time a code arrives and 200 with the first
receipt when it arrives again, so a sender that lost the answer may simply send again.
"""

from __future__ import annotations

import logging
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, params, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backoffice.office import (
    COMMUNE_PATTERN,
    DossierCodeConflict,
    DossierIn,
    OfficeDossier,
    OfficeDossierSummary,
    OfficeService,
    Receipt,
    StatusName,
)
from backoffice.paths import PREFIX

log = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False, description="The back office's API token")


def _token_check(token: str) -> params.Depends:
    expected = token.encode()

    async def check(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        given = b"" if credentials is None else credentials.credentials.encode()
        # compare_digest: the time taken must not tell how much of a guess was right.
        if not secrets.compare_digest(given, expected):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="missing or wrong bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return params.Depends(check)


def router(office: OfficeService, token: str | None) -> APIRouter:
    """The API routes; every one requires ``Authorization: Bearer <token>`` when a token is
    given. Without a token (None or empty) the routes are open: mount them only where nobody
    but the deployment itself can reach them."""
    dependencies = [_token_check(token)] if token else []
    if not token:
        log.warning("back-office API without a token: reachable by anyone who can connect")
    api = APIRouter(prefix=PREFIX, tags=["back office"], dependencies=dependencies)

    @api.post(
        "/dossiers",
        status_code=status.HTTP_201_CREATED,
        response_model=Receipt,
        responses={
            200: {"model": Receipt, "description": "Received before: the first receipt"},
            409: {"description": "The code belongs to a dossier of another commune/procedure"},
        },
        summary="Receive a dossier (idempotent by code)",
    )
    async def receive_dossier(dossier: DossierIn, request: Request, response: Response) -> Receipt:
        try:
            receipt = await office.receive(dossier)
        except DossierCodeConflict as exc:
            log.error("dossier %s refused: %s", dossier.code, exc)
            raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
        if not receipt.created:
            response.status_code = status.HTTP_200_OK
        response.headers["Location"] = str(request.url_for("get_dossier", code=receipt.code))
        log.info("dossier %s %s", receipt.code, "received" if receipt.created else "received again")
        return receipt

    @api.get("/dossiers/{code}", response_model=OfficeDossier, name="get_dossier")
    async def get_dossier(code: str) -> OfficeDossier:
        found = await office.get(code)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no dossier with that code")
        return found

    @api.get("/dossiers", response_model=list[OfficeDossierSummary])
    async def list_dossiers(
        commune: Annotated[str | None, Query(pattern=COMMUNE_PATTERN)] = None,
        status_name: Annotated[StatusName | None, Query(alias="status")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[OfficeDossierSummary]:
        return await office.list(commune, status_name, limit)

    return api
