"""Without Chromium the browser tests are skipped with the reason, except under CI, where
that is a failure: a CI machine that lacks it must not pass them unseen."""

from __future__ import annotations

import pytest

from tests.browser import conftest


@pytest.fixture
def no_chromium(monkeypatch):
    monkeypatch.setattr(conftest.shutil, "which", lambda name: None)


def test_missing_chromium_skips_them_locally(no_chromium, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Chromium is not installed"):
        conftest._chromium()


def test_missing_chromium_fails_them_under_ci(no_chromium, monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="Chromium is not installed"):
        conftest._chromium()
