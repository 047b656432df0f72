"""HTTP client for the Zalo Official Account Open API: CS messages, uploads, template messages.

Zalo reports most errors with HTTP 200 and ``{"error": <non-zero>, "message": ...}``, so every
response body is checked. The OA access token travels in a bare ``access_token`` header and
lasts about 25 hours; the refresh token works exactly once, so each refresh persists the new
pair through :class:`TokenStore` before the new access token is used, and concurrent callers
share one refresh (a second refresh with the same refresh token would fail and lock us out
until an admin re-consents in a browser).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx

from handlers.channel import WindowClosed
from handlers.files import MAX_DOWNLOAD, FileTooLarge

log = logging.getLogger(__name__)

OPENAPI_URL = "https://openapi.zalo.me"
OAUTH_URL = "https://oauth.zaloapp.com"
BUSINESS_URL = "https://business.openapi.zalo.me"

MAX_TEXT = 2000  # characters per CS text message
# -216 / -220: invalid or expired OA access token; -124: the same from the template API.
TOKEN_ERRORS = frozenset({-216, -220, -124})
OUTSIDE_WINDOW = -230
# Zalo says 25 h; refreshing well before that keeps a slow clock or a late call from failing.
REFRESH_AFTER = timedelta(hours=20)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ZaloError(Exception):
    """Zalo refused a call (``code`` from the body, or the HTTP status when there is no body)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"Zalo error {code}: {message}")
        self.code = code
        self.message = message


class ZaloOutsideWindow(ZaloError, WindowClosed):
    """-230: the user has been silent for 7 days; only template messages reach them now."""


class ZaloAuthError(ZaloError):
    """No usable token: the refresh failed. An admin must grant the OA again in a browser."""


class ZaloDownloadTooLarge(FileTooLarge):
    """The attachment is bigger than the cap; the download stopped there."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"attachment larger than {limit} bytes")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    obtained_at: datetime
    expires_in: int = 0  # seconds, as Zalo said; informational (we refresh at REFRESH_AFTER)

    @classmethod
    def seed(cls, refresh_token: str) -> TokenPair:
        """The pair to start from when only the configured first refresh token is known."""
        return cls(access_token="", refresh_token=refresh_token, obtained_at=_EPOCH)

    def to_json(self) -> str:
        return json.dumps(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "obtained_at": self.obtained_at.isoformat(),
                "expires_in": self.expires_in,
            }
        )

    @classmethod
    def from_json(cls, raw: str) -> TokenPair:
        data = json.loads(raw)
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]),
            obtained_at=datetime.fromisoformat(data["obtained_at"]),
            expires_in=int(data.get("expires_in", 0)),
        )


class TokenStore(Protocol):
    async def get(self) -> TokenPair | None: ...

    async def put(self, pair: TokenPair) -> None: ...


class InMemoryTokenStore:
    """For tests and one-off scripts: the rotated refresh token is lost on restart."""

    def __init__(self, pair: TokenPair | None = None) -> None:
        self.pair = pair

    async def get(self) -> TokenPair | None:
        return self.pair

    async def put(self, pair: TokenPair) -> None:
        self.pair = pair


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut ``text`` into messages of at most ``limit`` characters, between lines where possible."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit + 1)
            cut = cut if cut > 0 else limit
            pieces = (line[:cut].rstrip(), line[cut:].lstrip())
            if current:
                chunks.append(current)
                current = ""
            chunks.append(pieces[0])
            line = pieces[1]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = line
    if current.strip():
        chunks.append(current)
    return [c for c in chunks if c.strip()]


def _error_code(body: Mapping[str, Any]) -> int:
    raw = body.get("error", 0)
    try:
        return int(raw)
    except (TypeError, ValueError):
        return -1


class ZaloClient:
    """One OA's API calls. Never logs tokens; sends the access token only to Zalo's own hosts."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        app_id: str,
        app_secret: str,
        tokens: TokenStore,
        base_url: str = OPENAPI_URL,
        oauth_url: str = OAUTH_URL,
        business_url: str = BUSINESS_URL,
        clock: Callable[[], datetime] = _utc_now,
        refresh_after: timedelta = REFRESH_AFTER,
        max_download: int = MAX_DOWNLOAD,
    ) -> None:
        self._http = http
        self._app_id = app_id
        self._app_secret = app_secret
        self._tokens = tokens
        self._base = base_url.rstrip("/")
        self._oauth = oauth_url.rstrip("/")
        self._business = business_url.rstrip("/")
        self._clock = clock
        self._refresh_after = refresh_after
        self._max_download = max_download
        self._refresh_lock = asyncio.Lock()

    # --- sending --------------------------------------------------------------------------------

    async def send_text(self, user_id: str, text: str, *, reply_to: str = "") -> list[str]:
        """Send ``text`` as one or more CS messages; returns Zalo's message ids.

        ``reply_to``: the id of the user's message this answers. Zalo counts a message sent
        to a ``message_id`` as a reply (free, within its reply quota) and one sent to the
        ``user_id`` only as a proactive message, billed to the OA's quota (protocols.md §3.4)."""
        ids = []
        for chunk in split_text(text):
            data = await self._cs(user_id, {"text": chunk}, reply_to=reply_to)
            ids.append(str(data.get("message_id", "")))
        return ids

    async def send_image(
        self,
        user_id: str,
        image: bytes,
        *,
        caption: str = "",
        filename: str = "image.png",
        reply_to: str = "",
    ) -> str:
        mime = "image/jpeg" if filename.lower().endswith((".jpg", ".jpeg")) else "image/png"
        uploaded = await self._call(
            f"{self._base}/v2.0/oa/upload/image", files={"file": (filename, image, mime)}
        )
        attachment_id = str(uploaded.get("attachment_id", ""))
        if not attachment_id:
            raise ZaloError(-1, "upload/image returned no attachment_id")
        message: dict[str, Any] = {
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": "media",
                    "elements": [{"media_type": "image", "attachment_id": attachment_id}],
                },
            }
        }
        if caption:
            message["text"] = caption[:MAX_TEXT]
        return str((await self._cs(user_id, message, reply_to=reply_to)).get("message_id", ""))

    async def send_file(
        self, user_id: str, data: bytes, filename: str, *, reply_to: str = ""
    ) -> str:
        uploaded = await self._call(
            f"{self._base}/v2.0/oa/upload/file",
            files={"file": (filename, data, "application/pdf")},
        )
        token = str(uploaded.get("token", ""))
        if not token:
            raise ZaloError(-1, "upload/file returned no token")
        message = {"attachment": {"type": "file", "payload": {"token": token}}}
        return str((await self._cs(user_id, message, reply_to=reply_to)).get("message_id", ""))

    async def request_user_info(
        self, user_id: str, *, title: str, subtitle: str, image_url: str, reply_to: str = ""
    ) -> str:
        """Zalo's "share your phone number" card; the answer arrives as ``user_submit_info``."""
        element = {"title": title, "subtitle": subtitle, "image_url": image_url}
        message = {
            "attachment": {
                "type": "template",
                "payload": {"template_type": "request_user_info", "elements": [element]},
            }
        }
        return str((await self._cs(user_id, message, reply_to=reply_to)).get("message_id", ""))

    async def send_template(
        self, phone_84: str, template_id: str, data: Mapping[str, Any], tracking_id: str
    ) -> str:
        """A pre-approved template message (ZNS/ZBS) to a phone number in ``84xxxxxxxxx`` form."""
        body = {
            "phone": phone_84,
            "template_id": template_id,
            "template_data": dict(data),
            "tracking_id": tracking_id,
        }
        result = await self._call(f"{self._business}/message/template", json_body=body)
        return str(result.get("msg_id", ""))

    async def _cs(
        self, user_id: str, message: Mapping[str, Any], *, reply_to: str = ""
    ) -> dict[str, Any]:
        url = f"{self._base}/v3.0/oa/message/cs"
        if reply_to:
            try:
                body = {"recipient": {"message_id": reply_to}, "message": dict(message)}
                return await self._call(url, json_body=body)
            except ZaloOutsideWindow:
                raise
            except ZaloError as exc:
                # The message may be too old to answer (or Zalo refuses the form): the same
                # words to the user, counted as proactive, rather than nothing.
                log.info("Zalo refused a reply to a message (%s); sending to the user", exc.code)
        body = {"recipient": {"user_id": user_id}, "message": dict(message)}
        return await self._call(url, json_body=body)

    async def _call(
        self,
        url: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        """POST with the access token; one refresh and retry when Zalo says it has expired."""
        token = await self._access_token()
        body = await self._post(url, token, json_body=json_body, files=files)
        code = _error_code(body)
        if code in TOKEN_ERRORS:
            log.info("Zalo access token rejected (%s); refreshing once", code)
            token = (await self._refresh(stale=token)).access_token
            body = await self._post(url, token, json_body=json_body, files=files)
            code = _error_code(body)
        if code == OUTSIDE_WINDOW:
            raise ZaloOutsideWindow(code, str(body.get("message", "")))
        if code != 0:
            raise ZaloError(code, str(body.get("message", "")))
        data = body.get("data")
        return data if isinstance(data, dict) else {}

    async def _post(
        self,
        url: str,
        token: str,
        *,
        json_body: Mapping[str, Any] | None,
        files: Mapping[str, tuple[str, bytes, str]] | None,
    ) -> dict[str, Any]:
        response = await self._http.post(
            url, headers={"access_token": token}, json=json_body, files=files
        )
        return _body(response)

    # --- tokens ---------------------------------------------------------------------------------

    async def _access_token(self) -> str:
        pair = await self._tokens.get()
        if pair is None:
            raise ZaloAuthError(-1, "no Zalo token configured")
        if pair.access_token and not self._stale(pair):
            return pair.access_token
        return (await self._refresh(stale=pair.access_token)).access_token

    def _stale(self, pair: TokenPair) -> bool:
        return self._clock() - pair.obtained_at >= self._refresh_after

    async def refresh(self) -> TokenPair:
        """Force a refresh now (e.g. from a daily job); concurrent callers share it."""
        pair = await self._tokens.get()
        return await self._refresh(stale=pair.access_token if pair else "")

    async def _refresh(self, *, stale: str) -> TokenPair:
        async with self._refresh_lock:
            current = await self._tokens.get()
            if current is None:
                raise ZaloAuthError(-1, "no Zalo refresh token configured")
            # Someone else refreshed while we waited for the lock: use theirs, do not burn
            # the single-use refresh token a second time.
            fresh = current.access_token and not self._stale(current)
            if fresh and current.access_token != stale:
                return current
            response = await self._http.post(
                f"{self._oauth}/v4/oa/access_token",
                headers={"secret_key": self._app_secret},
                data={
                    "refresh_token": current.refresh_token,
                    "app_id": self._app_id,
                    "grant_type": "refresh_token",
                },
            )
            body = _body(response)
            access = body.get("access_token")
            refresh = body.get("refresh_token")
            if _error_code(body) != 0 or not isinstance(access, str) or not access:
                message = str(body.get("error_description") or body.get("message") or "")
                log.error(
                    "Zalo token refresh failed (%s): an admin must grant the OA again",
                    body.get("error"),
                )
                raise ZaloAuthError(_error_code(body) or -1, message)
            try:
                expires_in = int(body.get("expires_in", 0))
            except (TypeError, ValueError):
                expires_in = 0
            pair = TokenPair(
                access_token=access,
                refresh_token=refresh if isinstance(refresh, str) and refresh else "",
                obtained_at=self._clock(),
                expires_in=expires_in,
            )
            if not pair.refresh_token:
                # Without the new refresh token the next refresh is impossible; keep the old one
                # so the failure shows up then, loudly, rather than storing an empty secret.
                log.error("Zalo token refresh returned no refresh_token")
                pair = TokenPair(access, current.refresh_token, pair.obtained_at, expires_in)
            # The old refresh token is spent: persist the new pair before anything uses it.
            await self._tokens.put(pair)
            log.info("Zalo access token refreshed")
            return pair

    # --- attachments ----------------------------------------------------------------------------

    async def download(self, url: str) -> bytes:
        """The bytes behind a user attachment URL (a Zalo CDN link; no token is sent there)."""
        if not url.startswith(("https://", "http://")):
            raise ZaloError(-1, "attachment URL is not http(s)")
        chunks: list[bytes] = []
        size = 0
        async with self._http.stream("GET", url, follow_redirects=True) as response:
            if response.status_code != 200:
                raise ZaloError(response.status_code, "attachment download failed")
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > self._max_download:
                    raise ZaloDownloadTooLarge(self._max_download)
        return b"".join(chunks)


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ZaloError(response.status_code, f"HTTP {response.status_code}, no JSON body")
    if response.status_code >= 400 and _error_code(body) == 0:
        raise ZaloError(response.status_code, f"HTTP {response.status_code}")
    return body
