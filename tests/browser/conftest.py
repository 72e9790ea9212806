"""The pages served live (waitress on a free port, in a thread) and worked in Chromium
through Playwright. Every page looked at is checked with axe-core and saved as a
screenshot under ``test-artifacts/screenshots/``, which CI keeps.

Debian's Chromium is used (``apt-get install chromium``): without it these tests are
skipped with the reason, and under CI (CI=true) they fail.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from picycle.api import create_app
from picycle.api.serve import create_server

from tests.api.conftest import running
from tests.pages.sso import provider, served_provider  # noqa: F401  (fixtures)
from tests.support import unavailable

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
# A closed network: Chromium must not try to reach its update and sync services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERIOUS = ("serious", "critical")


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    reason = "Chromium is not installed (apt-get install chromium): no browser tests"
    unavailable(reason)


@pytest.fixture(scope="session")
def chromium() -> Iterator:
    """One headless Chromium per test process."""
    from playwright.sync_api import sync_playwright

    path = _chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def live(driver) -> Iterator[str]:
    """The app on the ``driver``'s database, served over http; its base URL."""
    app = create_app(
        {
            "PICYCLE_ENGINE": driver.engine,
            "SECRET_KEY": "a secret for the tests only",
            "PICYCLE_SECURE_COOKIES": False,
        }
    )
    with running(create_server(app, port=0, threads=4)) as port:
        yield f"http://127.0.0.1:{port}"


class Camera:
    """Looks at pages for one run: checks each with axe-core and for refused scripts or
    styles, and saves it as ``NN-name.png`` in the run's folder."""

    def __init__(self, folder: Path):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.folder = folder
        self.count = 0
        self.refused: list[str] = []
        self._axe = AXE.read_text(encoding="utf-8")

    def watch(self, page) -> None:
        """Collect what the page's console says the content security policy refused."""
        page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.refused.append(message.text)

    def look(self, page, name: str) -> None:
        self.count += 1
        page.screenshot(path=self.folder / f"{self.count:02d}-{name}.png", full_page=True)
        assert not self.refused, (name, self.refused)
        # Evaluated through the DevTools protocol, which the page's CSP does not govern; a
        # <script> tag with the file's text would be refused like any inline script.
        if not page.evaluate("typeof axe !== 'undefined'"):
            page.evaluate(self._axe)
        found = page.evaluate(
            """() => axe.run(document, {resultTypes: ["violations"]}).then((result) =>
                result.violations.map((v) => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
                })))"""
        )
        serious = [v for v in found if v["impact"] in SERIOUS]
        assert not serious, (name, page.url, serious)


@pytest.fixture
def camera():
    """``camera("ar")``: a Camera saving under ``test-artifacts/screenshots/ar/``."""
    return lambda language: Camera(SCREENSHOTS / language)
