"""A page walk runs once on each database, each time in another language: both databases
and both directions of writing are walked, without every pair of them. The pages do not
differ by database; the services under them are tested on both."""

from __future__ import annotations

import pytest

EACH_DATABASE_IN_A_LANGUAGE = pytest.mark.parametrize(
    ("database_url", "language"),
    [("sqlite", "ar"), ("postgresql", "en")],
    indirect=["database_url"],
)
