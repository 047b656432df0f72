"""What a dossier costs, from the procedure's fee and the filing's answers.

The copies a citizen asks for (the form's ``copies`` answer) each cost ``Fee.copy_vnd`` (8.000
đồng a bản sao for civil-status extracts, TT 281/2016/TT-BTC), on top of the procedure's own
fee. The receipt, its VietQR amount and the officer's suggested payment request all read
:func:`fee_due`, so the number the citizen sees is the number the bank app fills in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from knowledge.model import Fee

COPIES = "copies"  # the form field that counts the extracts wanted


@dataclass(frozen=True, slots=True)
class FeeDue:
    """``total`` đồng to pay; ``base`` is the procedure's own fee (None when the province sets
    it and the catalogue has no figure), plus ``copies`` × ``per_copy``."""

    total: int
    base: int | None
    copies: int
    per_copy: int

    @property
    def copies_vnd(self) -> int:
        return self.copies * self.per_copy


def copies_of(answers: Mapping[str, object]) -> int:
    """The number of extracts asked for: a whole number above zero, else none."""
    value = answers.get(COPIES)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return 0
    return value


def fee_due(fee: Fee | None, answers: Mapping[str, object]) -> FeeDue | None:
    """What the filing costs, or None when nothing is known to charge: no fee record, or a
    fee set by the province with no figure and no paid copies asked for."""
    if fee is None:
        return None
    per_copy = fee.copy_vnd or 0
    copies = copies_of(answers) if per_copy else 0
    base = fee.amount_vnd
    if base is None and not copies:
        return None
    return FeeDue((base or 0) + copies * per_copy, base, copies, per_copy)
