"""UPU S10 item identifiers (e.g. ``EE123456789VN``) used by VNPost for tracked items.

Whether domestic public-postal returns carry S10 numbers is unverified (protocols.md §5), so
callers validate the check digit only when the pattern matches and otherwise keep the tracking
code as an opaque string.
"""

from __future__ import annotations

import re

_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
_S10_RE = re.compile(r"^[A-Z]{2}([0-9]{8})([0-9])[A-Z]{2}$")


def s10_check_digit(serial8: str) -> int:
    """Check digit of an 8-digit serial: 11 − (Σ dᵢ·wᵢ mod 11), with 10 → 0 and 11 → 5."""
    if len(serial8) != 8 or not serial8.isascii() or not serial8.isdigit():
        raise ValueError(f"S10 serial {serial8!r} must be 8 digits")
    check = 11 - sum(int(d) * w for d, w in zip(serial8, _WEIGHTS, strict=True)) % 11
    return 0 if check == 10 else 5 if check == 11 else check


def looks_like_s10(code: str) -> bool:
    """True when ``code`` has the S10 shape (2 letters, 9 digits, 2 letters), check aside."""
    return _S10_RE.match(code.strip().upper()) is not None


def is_valid_s10(code: str) -> bool:
    """True for an S10 identifier whose check digit is right; case and edge spaces ignored."""
    match = _S10_RE.match(code.strip().upper())
    return match is not None and s10_check_digit(match[1]) == int(match[2])


def normalise_item_number(item_number: str) -> str:
    """``"ee 123 456 785 vn"`` -> ``"EE123456785VN"``: labels print S10 numbers in groups of
    digits, and people type them back that way; the stored form has no spaces, upper case."""
    return "".join(item_number.split()).upper()
