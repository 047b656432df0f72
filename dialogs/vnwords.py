"""Numbers and dates written out in Vietnamese words, as the birth certificate asks for.

Spelling follows the common written usage (domain notes §12.2): "mốt" for a final 1 after
twenty ("hai mươi mốt") but "một" after "mười" and "linh"; "lăm" for a final 5 after ten;
"linh" for a zero tens digit after hundreds ("một trăm linh năm"); "không trăm" when a
thousand has no hundreds but something below; "tháng tư" for April. The citizen sees the result
and confirms it before anything is printed, because no official spelling rule is published.
"""

from __future__ import annotations

from datetime import date

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

# Month names as written on civil-status papers: April is "tháng tư", never "tháng bốn".
_MONTHS = (
    "một",
    "hai",
    "ba",
    "tư",
    "năm",
    "sáu",
    "bảy",
    "tám",
    "chín",
    "mười",
    "mười một",
    "mười hai",
)


def _below_hundred(n: int) -> list[str]:
    tens, units = divmod(n, 10)
    if tens == 0:
        return [_DIGITS[units]]
    words = ["mười"] if tens == 1 else [_DIGITS[tens], "mươi"]
    if units == 1 and tens > 1:
        words.append("mốt")
    elif units == 5:
        words.append("lăm")
    elif units:
        words.append(_DIGITS[units])
    return words


def _below_thousand(n: int, *, inner: bool) -> list[str]:
    """``inner``: a thousands group precedes, so a zero hundreds digit is still read out."""
    hundreds, rest = divmod(n, 100)
    words: list[str] = []
    if hundreds or inner:
        words += [_DIGITS[hundreds], "trăm"]
    if rest == 0:
        return words
    if rest < 10 and words:
        return [*words, "linh", _DIGITS[rest]]
    return words + _below_hundred(rest)


def number_in_words(n: int) -> str:
    """0–9999 in words: 2026 → "hai nghìn không trăm hai mươi sáu"."""
    if not 0 <= n <= 9999:
        raise ValueError(f"number_in_words supports 0–9999, got {n}")
    if n < 100:
        return " ".join(_below_hundred(n))
    thousands, rest = divmod(n, 1000)
    words: list[str] = []
    if thousands:
        words += [_DIGITS[thousands], "nghìn"]
        if rest:
            words += _below_thousand(rest, inner=True)
    else:
        words += _below_thousand(rest, inner=False)
    return " ".join(words)


def month_in_words(month: int) -> str:
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1–12, got {month}")
    return _MONTHS[month - 1]


def date_in_words(d: date) -> str:
    """15/03/2026 → "Ngày mười lăm, tháng ba, năm hai nghìn không trăm hai mươi sáu"."""
    return (
        f"Ngày {number_in_words(d.day)}, tháng {month_in_words(d.month)}, "
        f"năm {number_in_words(d.year)}"
    )
