"""Dossier codes (mã hồ sơ) in the TT 01/2018/TT-VPCP Art. 19 format.

``V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX``: the receiving agency's code (TT 10/2016/TT-BTTTT, e.g.
``000.00.31.H26``), the reception date and that day's 4-digit sequence number, e.g.
``000.00.31.H26-261127-0042``. TT 03/2025/TT-VPCP may define a newer format (vietnam.md §2.6,
unverified); whatever it is, codes already printed on 2018-format slips must keep parsing.

Citizens type codes back from a paper slip or a photo, so :func:`parse_code` accepts lower case,
spaces around the separators, en/em dashes for hyphens and surrounding words ("mã hồ sơ: ...").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# Agency code: 3 digits, 2 digits, 2 digits, then one letter and 2 digits, dot-separated.
AGENCY_CODE_RE = re.compile(r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}$")

# The same pieces, with optional spaces around every separator, then -YYMMDD-XXXX. The
# look-arounds stop a match inside a longer run of digits or letters.
_CODE_IN_TEXT_RE = re.compile(
    r"(?<![0-9A-Z])"
    r"(?P<v>[0-9]{3})\s*\.\s*(?P<z>[0-9]{2})\s*\.\s*(?P<y>[0-9]{2})\s*\.\s*(?P<m>[A-Z][0-9]{2})"
    r"\s*-\s*(?P<yy>[0-9]{2})(?P<mm>[0-9]{2})(?P<dd>[0-9]{2})"
    r"\s*-\s*(?P<seq>[0-9]{4})"
    r"(?![0-9A-Z])"
)
_DASHES = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-"})


@dataclass(frozen=True, slots=True)
class DossierCode:
    agency_code: str
    day: date
    seq: int

    @property
    def text(self) -> str:
        return format_code(self.agency_code, self.day, self.seq)


def format_code(agency_code: str, day: date, seq: int) -> str:
    """``000.00.31.H26``, 27 Nov 2026, 42 → ``000.00.31.H26-261127-0042``."""
    if not AGENCY_CODE_RE.match(agency_code):
        raise ValueError(f"agency code {agency_code!r} is not of the form 000.00.00.H00")
    if not 1 <= seq <= 9999:
        raise ValueError(f"sequence number {seq} is outside 1..9999")
    if not 2000 <= day.year <= 2099:
        raise ValueError(f"year {day.year} does not fit the two-digit YY of the code")
    return f"{agency_code}-{day:%y%m%d}-{seq:04d}"


def parse_code(text: str) -> DossierCode | None:
    """Find the first well-formed dossier code in ``text``; None if there is none."""
    normalised = text.translate(_DASHES).upper()
    for match in _CODE_IN_TEXT_RE.finditer(normalised):
        seq = int(match["seq"])
        if seq == 0:
            continue
        try:
            day = date(2000 + int(match["yy"]), int(match["mm"]), int(match["dd"]))
        except ValueError:
            continue
        agency = f"{match['v']}.{match['z']}.{match['y']}.{match['m']}"
        return DossierCode(agency_code=agency, day=day, seq=seq)
    return None
