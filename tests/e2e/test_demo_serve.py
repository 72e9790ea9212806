"""``picycle demo --serve``, the README's first command, as a newcomer runs it: the demo,
then its pages served, with the URL and every demo user's sign-in printed; signing in
with what is printed works, over plain http."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, build_opener

from picycle.cli.demo import PEOPLE

from tests.deadline import finishes_within
from tests.e2e.test_readme import free_port

PICYCLE = Path(sys.executable).with_name("picycle")
URL = re.compile(r"http://\S+/")
SIGN_IN = re.compile(r"^  (?P<name>\S+)\s+password (?P<password>\S+)\s+(?P<holds>.+)$", re.M)
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def read_until_served(process: subprocess.Popen) -> str:
    said = []
    for line in process.stdout:
        said.append(line)
        if line.startswith("Ctrl-C stops the server"):
            break
    return "".join(said)


def test_the_demo_serves_its_pages_and_prints_sign_ins_that_work(tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PICYCLE_")}
    environment["PICYCLE_DATA_DIR"] = str(tmp_path)
    process = subprocess.Popen(
        [PICYCLE, "demo", "--serve", "--port", str(free_port())],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        said = finishes_within(180, lambda: read_until_served(process))
        (url,) = URL.findall(said)
        sign_ins = {m["name"]: m for m in SIGN_IN.finditer(said)}
        assert set(sign_ins) == set(PEOPLE)
        assert sign_ins["pia"]["holds"] == "PI Unit in Ministry of Public Works"
        # Someone to open the admin and audit pages with.
        assert (sign_ins["ada"]["holds"], sign_ins["audrey"]["holds"]) == (
            "the admin",
            "the auditor",
        )

        browser = build_opener(HTTPCookieProcessor(CookieJar()))
        form = browser.open(url + "sign-in").read().decode()
        token = TOKEN.search(form).group(1)
        sign_in = {"name": "pia", "password": sign_ins["pia"]["password"], "csrf_token": token}
        inbox = browser.open(url + "sign-in", urlencode(sign_in).encode())
        page = inbox.read().decode()
        assert inbox.url == url  # the inbox: signed in, the cookie kept over http
        assert '<span class="who">pia</span>' in page and "Assess performance" in page

        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr
        assert "stopped" in stdout
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
