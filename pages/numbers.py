"""Whole numbers typed into addresses and forms, read without ever failing: a page number,
an id or a row index that is not one is treated as absent, as the caller decides."""

from __future__ import annotations

from picycle.engine.read_models import MAX_ID

# Far beyond any list of cycles; a number past it is a typo or a probe.
LAST_PAGE = 99_999


def page_number(text: str | None) -> int:
    """The page of a list asked for: 1 unless a whole number from 1 to ``LAST_PAGE``."""
    return whole_number(text, LAST_PAGE, smallest=1) or 1


def id_number(text: str | None) -> int | None:
    """An id or a version typed or chosen: a whole number from 1 to ``MAX_ID``."""
    return whole_number(text, MAX_ID, smallest=1)


def whole_number(text: str | None, largest: int, smallest: int = 0) -> int | None:
    """``text`` as a whole number from ``smallest`` to ``largest``, else None. Decimal
    digits only (``int`` refuses '²', which ``isdigit`` accepts), and no more of them than
    ``largest`` has (``int`` refuses thousands)."""
    if not text or not text.isdecimal() or len(text) > len(str(largest)):
        return None
    value = int(text)
    return value if smallest <= value <= largest else None
