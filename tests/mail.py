"""A local SMTP server for the notification tests (aiosmtpd), and reading what it got."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from picycle.engine.notifications.smtp import SmtpSettings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Received:
    recipients: tuple[str, ...]
    email: EmailMessage

    @property
    def to(self) -> str:
        return self.email["To"]

    @property
    def subject(self) -> str:
        return self.email["Subject"]

    @property
    def message_id(self) -> str:
        return self.email["Message-ID"]

    def part(self, subtype: str) -> str:
        return self.email.get_body(preferencelist=(subtype,)).get_content()


class SmtpServer:
    """Keeps every e-mail it accepts; ``refuse`` makes it answer DATA with that reply.
    ``utf8=False``: a server that does not offer SMTPUTF8 (addresses beyond ASCII)."""

    def __init__(self, utf8: bool = True):
        self.received: list[Received] = []
        self.refuse: str | None = None
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(
            self, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=utf8
        )

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse:
            return self.refuse
        email = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.received.append(Received(tuple(envelope.rcpt_tos), email))
        return "250 OK"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def settings(self) -> SmtpSettings:
        return SmtpSettings("127.0.0.1", self.port, "none", None, None, "picycle@example.org")

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [mail for mail in self.received if mail.to == address]

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
