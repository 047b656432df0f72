"""VietQR (NAPAS, EMVCo merchant-presented) payloads for bank transfers of commune fees.

Each field is ``ID(2) + LEN(2, decimal) + VALUE``; the payload ends with ``6304`` and a
CRC-16/CCITT-FALSE over everything before it, ``6304`` included (protocols.md §4). Built in
house because the available packages are single-release ports that disagree with the standard
on non-ASCII input; we fold the purpose to ASCII so character and byte lengths agree.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass

import segno

VIETQR_GUID = "A000000727"
SERVICE_TO_ACCOUNT = "QRIBFTTA"
CURRENCY_VND = "704"
MAX_PURPOSE_LENGTH = 25  # many bank apps reject longer transfer notes (protocols.md §4.4)

_BIN_RE = re.compile(r"^[0-9]{6}$")
_ACCOUNT_RE = re.compile(r"^[0-9A-Za-z]{1,19}$")
_PRINTABLE_ASCII_RE = re.compile(r"[^\x20-\x7e]")


@dataclass(frozen=True, slots=True)
class VietQRTransfer:
    """What a payload asks the payer's bank app to do."""

    bank_bin: str
    account: str
    amount: int | None
    purpose: str


def crc16_ccitt_false(data: bytes) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) as 4 upper-case hex digits."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return f"{crc:04X}"


def fold_ascii(text: str) -> str:
    """Drop Vietnamese diacritics ("Lệ phí đăng ký" → "Le phi dang ky") and non-printables."""
    # đ/Đ are letters of their own, not d plus a combining mark, so NFD leaves them alone.
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_PRINTABLE_ASCII_RE.sub(" ", stripped).split())


def _tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def fee_purpose(dossier_code: str) -> str:
    """The transfer note for a dossier's fee: the end of its code (date and number), which
    fits the 25 characters bank apps keep and lets the office match the transfer."""
    return f"LE PHI {dossier_code[-11:]}"


def build_vietqr(bank_bin: str, account: str, amount: int | None, purpose: str) -> str:
    """Payload for a transfer to ``account`` at bank ``bank_bin``.

    Without an amount the code is static (``01``=11, the payer types the amount); with one it
    is dynamic (``01``=12). The purpose becomes the transfer note, folded to ASCII and cut to
    25 characters; an empty purpose leaves the note out.
    """
    if not _BIN_RE.match(bank_bin):
        raise ValueError(f"bank BIN {bank_bin!r} must be 6 digits")
    if not _ACCOUNT_RE.match(account):
        raise ValueError("account number must be 1 to 19 letters or digits")
    if amount is not None and amount <= 0:
        raise ValueError("amount must be a positive number of đồng")
    beneficiary = _tlv("00", bank_bin) + _tlv("01", account)
    merchant = _tlv("00", VIETQR_GUID) + _tlv("01", beneficiary) + _tlv("02", SERVICE_TO_ACCOUNT)
    parts = [
        _tlv("00", "01"),
        _tlv("01", "11" if amount is None else "12"),
        _tlv("38", merchant),
        _tlv("53", CURRENCY_VND),
    ]
    if amount is not None:
        parts.append(_tlv("54", str(amount)))
    parts.append(_tlv("58", "VN"))
    note = fold_ascii(purpose)[:MAX_PURPOSE_LENGTH].rstrip()
    if note:
        parts.append(_tlv("62", _tlv("08", note)))
    body = "".join(parts) + "6304"
    return body + crc16_ccitt_false(body.encode("ascii"))


def parse_tlv(payload: str) -> dict[str, str]:
    """Split one level of TLV fields into ``{id: value}``; nested templates stay strings.

    Raises ValueError on a truncated field, a non-numeric length or a repeated id.
    """
    fields: dict[str, str] = {}
    pos = 0
    while pos < len(payload):
        header = payload[pos : pos + 4]
        if len(header) < 4 or not header.isdigit():
            raise ValueError(f"bad field header {header!r} at position {pos}")
        tag, length = header[:2], int(header[2:])
        value = payload[pos + 4 : pos + 4 + length]
        if len(value) != length:
            raise ValueError(f"field {tag} at position {pos} is truncated")
        if tag in fields:
            raise ValueError(f"field {tag} appears twice")
        fields[tag] = value
        pos += 4 + length
    return fields


def verify(payload: str) -> bool:
    """True when the payload is well-formed TLV ending in a CRC field that matches."""
    if len(payload) < 8 or payload[-8:-4] != "6304":
        return False
    try:
        parse_tlv(payload)
        expected = crc16_ccitt_false(payload[:-4].encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return False
    return payload[-4:].upper() == expected


def read_vietqr(payload: str) -> VietQRTransfer:
    """Decode a VietQR transfer payload; ValueError if it is not one or its CRC is wrong."""
    if not verify(payload):
        raise ValueError("not a well-formed payload with a valid CRC")
    top = parse_tlv(payload)
    merchant = parse_tlv(top.get("38", ""))
    if merchant.get("00") != VIETQR_GUID:
        raise ValueError("not a VietQR payload (field 38 lacks the NAPAS GUID)")
    beneficiary = parse_tlv(merchant.get("01", ""))
    amount = top.get("54")
    return VietQRTransfer(
        bank_bin=beneficiary.get("00", ""),
        account=beneficiary.get("01", ""),
        amount=int(amount) if amount else None,
        purpose=parse_tlv(top["62"]).get("08", "") if "62" in top else "",
    )


def qr_png(payload: str, scale: int = 6) -> bytes:
    """The payload as a PNG QR code (error correction M, 4-module quiet zone)."""
    buffer = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
