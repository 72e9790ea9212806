"""Whole numbers typed into addresses and forms, read without ever failing: a page number,
an id or a row index that is not one is treated as absent, as the caller decides."""

from __future__ import annotations

# Ids and sequence numbers are 32-bit integers on PostgreSQL.
MAX_ID = 2**31 - 1
# Far beyond any list of cycles; a number past it is a typo or a probe.
LAST_PAGE = 99_999


def whole_number(text: str | None, largest: int, smallest: int = 0) -> int | None:
    """``text`` as a whole number from ``smallest`` to ``largest``, else None. Decimal
    digits only (``int`` refuses '²', which ``isdigit`` accepts), and no more of them than
    ``largest`` has (``int`` refuses thousands)."""
    if not text or not text.isdecimal() or len(text) > len(str(largest)):
        return None
    value = int(text)
    return value if smallest <= value <= largest else None
