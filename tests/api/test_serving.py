"""``picycle serve`` as production runs it: proxy headers believed only when configured,
a graceful stop that lets requests in progress finish, and several processes on one
socket, a killed one replaced."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import threading
import time

import pytest
from flask import request
from picycle.api.serve import create_server, make_app, run_until_stopped

from bench.common import children_of
from tests.deadline import finishes_within
from tests.serving import PICYCLE, eventually, free_port, health


def seen_from(app, **headers) -> tuple[str, str, str]:
    """The client's address, the scheme and the host, as the app sees a request."""
    app.add_url_rule("/seen", "seen", lambda: [request.remote_addr, request.scheme, request.host])
    return tuple(app.test_client().get("/seen", headers=headers).json)


FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "picycle.example.org",
}


def test_proxy_headers_are_ignored_unless_proxies_are_configured(engine):
    assert seen_from(make_app(engine), **FORWARDED) == ("127.0.0.1", "http", "localhost")
    assert seen_from(make_app(engine, proxies=1), **FORWARDED) == (
        "203.0.113.7",
        "https",
        "picycle.example.org",
    )


def test_a_stopping_server_finishes_the_request_in_progress_and_takes_no_new_one(engine):
    app = make_app(engine)
    entered, finish = threading.Event(), threading.Event()

    def slow():
        entered.set()
        finish.wait(30)
        return "done"

    app.add_url_rule("/slow", "slow", slow)
    server = create_server(app, "127.0.0.1", 0, threads=2)
    port = server.effective_port
    stop = threading.Event()
    loop = threading.Thread(target=run_until_stopped, args=(server, stop, 30))
    loop.start()
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    client.request("GET", "/slow")
    finishes_within(30, entered.wait)
    stop.set()
    # The listening socket closes while the request is still in progress.
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the stopping server still accepts connections")
    finish.set()
    response = client.getresponse()
    assert (response.status, response.read()) == (200, b"done")
    finishes_within(30, loop.join)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_several_serving_processes_replace_a_killed_one_and_stop_on_sigterm(database_url):
    env = {**os.environ, "PICYCLE_DATABASE_URL": database_url}
    port = free_port()
    server = subprocess.Popen(
        [PICYCLE, "serve", "--processes", "2", "--port", str(port), "--grace", "5"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = eventually(
            lambda: len(children_of(server.pid)) == 2 and children_of(server.pid),
            "two serving processes",
        )
        assert eventually(lambda: health(port), "an answer") == 200
        killed = min(first)
        os.kill(killed, signal.SIGKILL)
        eventually(
            lambda: killed not in children_of(server.pid) and len(children_of(server.pid)) == 2,
            "a process in the killed one's place",
        )
        assert all(health(port) == 200 for _ in range(10))
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    log = server.stderr.read()
    server.stderr.close()
    assert f"serving process {killed} ended (killed by SIGKILL); starting another" in log
    assert log.rstrip().endswith("stopped")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("processes", ["1", "2"])
def test_a_port_in_use_is_one_line_and_a_failure_before_any_url(database_url, processes):
    env = {**os.environ, "PICYCLE_DATABASE_URL": database_url}
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        ran = subprocess.run(
            [PICYCLE, "serve", "--port", str(port), "--processes", processes],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert ran.returncode == 1
    assert ran.stdout == ""
    assert ran.stderr == (
        f"error: port {port} on 127.0.0.1 is in use by another program (another picycle?): "
        "stop it, or serve on another port with --port (or PICYCLE_PORT)\n"
    )
