"""Sending e-mail over SMTP, configured by environment variables (README, Configuration).

One connection serves a worker's pass; it is opened for the first message. A failure is
permanent when the server refuses this message for good (the recipient, the content:
a 5xx answer), so retrying cannot help; anything else (the server away, a timeout, a
4xx answer, a refused login) may pass, and is tried again later."""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime

from ..errors import ConfigurationError

SECURITY = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # one of SECURITY
    user: str | None
    password: str | None
    sender: str  # the From address

    @classmethod
    def from_environment(cls, base_url: str) -> SmtpSettings | None:
        """The settings ``PICYCLE_SMTP_*`` and ``PICYCLE_MAIL_FROM`` make; None when
        ``PICYCLE_SMTP_HOST`` is unset (no e-mail is sent; the outbox keeps it)."""
        env = os.environ
        host = env.get("PICYCLE_SMTP_HOST", "").strip()
        if not host:
            return None
        security = env.get("PICYCLE_SMTP_SECURITY", "starttls").strip().lower()
        if security not in SECURITY:
            raise ConfigurationError(
                f"PICYCLE_SMTP_SECURITY: '{security}' is not one of {', '.join(SECURITY)}"
            )
        port_text = env.get("PICYCLE_SMTP_PORT", "").strip() or str(DEFAULT_PORTS[security])
        if not port_text.isdecimal() or not 0 < int(port_text) < 65536:
            raise ConfigurationError(f"PICYCLE_SMTP_PORT: '{port_text}' is not a port number")
        user = env.get("PICYCLE_SMTP_USER") or None
        password = env.get("PICYCLE_SMTP_PASSWORD") or None
        if bool(user) != bool(password):
            raise ConfigurationError("set PICYCLE_SMTP_USER and PICYCLE_SMTP_PASSWORD together")
        domain = base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        sender = env.get("PICYCLE_MAIL_FROM", "").strip() or f"picycle@{domain}"
        return cls(host, int(port_text), security, user, password, sender)


class SendFailure(Exception):
    def __init__(self, message: str, permanent: bool):
        super().__init__(message)
        self.permanent = permanent


def email_of(
    sender: str,
    address: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    language: str,
    written_at: datetime,
) -> EmailMessage:
    """The e-mail as sent: plain text with an HTML alternative."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = address
    message["Subject"] = _subject_header(subject)
    message["Date"] = format_datetime(written_at)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    # After the parts: making them moves every Content-* header into the first.
    message["Content-Language"] = language
    return message


# Invisible; it breaks "=?" so no mail reader takes a title's text for an encoded word.
_BREAK = "=\u200b?"


def _subject_header(subject: str) -> str:
    """The subject as its header holds it. Given encoded: set as it is, a title written as
    an RFC 2047 word ("=?utf-8?q?...?=") would be decoded, line breaks and all, and sent as
    headers and a body of its own. Broken at each "=?": even a harmless word would reach
    the reader decoded, showing a subject other than the one written."""
    return Header(subject.replace("=?", _BREAK), "utf-8").encode(linesep=" ")


class Mailer:
    """``with Mailer(settings) as mailer: mailer.send(message)``; SendFailure when it
    cannot, after which the connection is dropped (the next message opens another)."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._connection: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc_info) -> None:
        self._drop(quit=True)

    def send(self, message: EmailMessage) -> None:
        try:
            self._connected().send_message(message)
        except smtplib.SMTPRecipientsRefused as refused:
            self._drop()
            codes = [code for code, _ in refused.recipients.values()]
            raise SendFailure(_said(refused), all(code >= 500 for code in codes)) from refused
        except smtplib.SMTPDataError as refused:
            self._drop()
            raise SendFailure(_said(refused), refused.smtp_code >= 500) from refused
        except smtplib.SMTPNotSupportedError as unsupported:
            # An address beyond ASCII, and a server without SMTPUTF8: no retry will help.
            self._drop()
            raise SendFailure(_said(unsupported), permanent=True) from unsupported
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            raise SendFailure(_said(error), permanent=False) from error

    def _connected(self) -> smtplib.SMTP:
        if self._connection is None:
            s = self.settings
            if s.security == "ssl":
                context = ssl.create_default_context()
                connection = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=TIMEOUT_SECONDS, context=context
                )
            else:
                connection = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT_SECONDS)
                if s.security == "starttls":
                    connection.starttls(context=ssl.create_default_context())
            if s.user and s.password:
                connection.login(s.user, s.password)
            self._connection = connection
        return self._connection

    def _drop(self, quit: bool = False) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit() if quit else connection.close()
        except (smtplib.SMTPException, OSError):
            connection.close()


def _said(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:1000]
