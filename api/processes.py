"""``picycle serve --processes N``: several serving processes on one listening socket.

The parent binds the socket and forks the children; each opens its own engine (database
connections are never shared across a fork) and serves with waitress until told to stop.
A child that dies (killed, out of memory) is replaced at once. SIGTERM or Ctrl-C stops
the children gracefully (each lets its requests in progress finish), then the parent.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import time

from picycle.engine import Engine

from picycle.stopping import STOP_SIGNALS, stop_on_signals

from .serve import ServeOptions, make_app, serve_process

log = logging.getLogger("picycle.serve")


def serve_in_processes(options: ServeOptions, url: str | None, listener: socket.socket) -> None:
    """Serve ``options.processes`` children on ``listener``, on the database at ``url``
    (None: from the environment), until SIGTERM or Ctrl-C."""
    log.info("listening on %s:%d", *listener.getsockname()[:2])
    children: set[int] = set()
    with stop_on_signals() as stop:
        try:
            while not stop.is_set():
                while len(children) < options.processes:
                    children.add(_fork(listener, options, url))
                gone = _reap(children)
                if gone is not None and not stop.is_set():
                    pid, status = gone
                    log.warning("serving process %d ended (%s); starting another", pid, status)
                    time.sleep(1)  # a child that cannot start at all must not spin the parent
        finally:
            _stop(children, options.grace)
            listener.close()
    log.info("stopped")


def _fork(listener: socket.socket, options: ServeOptions, url: str | None) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        engine = Engine(url)
        try:
            serve_process(make_app(engine, options.proxies), options, [listener])
            code = 0
        finally:
            engine.dispose()
    except BaseException:
        log.exception("serving process %d failed", os.getpid())
    finally:
        logging.shutdown()
        os._exit(code)  # never back into the parent's code


def _reap(children: set[int]) -> tuple[int, str] | None:
    """A child that ended, with how it ended; or None after a moment's wait. (Not a
    blocking wait: the stop signals must be seen, and a wait would resume after them.)"""
    try:
        pid, status = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        pid = 0
    if not pid:
        time.sleep(0.2)
        return None
    children.discard(pid)
    if os.WIFSIGNALED(status):
        return pid, f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return pid, f"exit code {os.WEXITSTATUS(status)}"


def _stop(children: set[int], grace: float) -> None:
    """SIGTERM to every child; SIGKILL to those still running after ``grace`` and a bit."""
    for pid in children:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace + 5
    while children and time.monotonic() < deadline:
        for pid in list(children):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                children.discard(pid)
        time.sleep(0.05)
    for pid in children:
        log.warning("serving process %d did not stop in time: killed", pid)
        _signal(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
        os.kill(pid, signum)
