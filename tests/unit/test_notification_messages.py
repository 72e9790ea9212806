"""The notifications' messages: every one translated into Dutch and Arabic with the same
placeholders, written safely, and the settings they depend on checked."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from picycle.engine.config import base_url, digest_time
from picycle.engine.errors import ConfigurationError
from picycle.engine.notifications.catalogs import TRANSLATIONS, language_of
from picycle.engine.notifications.messages import TaskMention, Writer
from picycle.engine.notifications.smtp import SmtpSettings, email_of

ENGINE = Path(__file__).parents[2] / "engine"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
TASK = TaskMention("6f1c", "Identify\ngaps <b>", "Faster permits", "Directorate of Planning", None)


def used_messages() -> set[str]:
    found = extract_from_dir(
        str(ENGINE),
        [("notifications/**.py", "python"), ("services/mail.py", "python")],
        keywords={"gettext": None},
    )
    return {message[2] for message in found}


@pytest.mark.parametrize("language", ["nl", "ar"])
def test_every_message_is_translated_with_its_placeholders(language):
    used = used_messages()
    assert len(used) > 15
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = {m.id: m.string for m in read_po(po) if m.id}
    missing = sorted(message for message in used if not catalog.get(message))
    assert not missing, f"{language} lacks {missing}"
    for message in used:
        assert sorted(PLACEHOLDER.findall(catalog[message])) == sorted(
            PLACEHOLDER.findall(message)
        ), message


def test_a_subject_stays_one_line_and_the_html_escapes_what_it_quotes():
    mail = Writer("en", "https://pi.example.org").group_open("dana", TASK, "A&B")
    assert mail.subject == "New task for A&B: Identify gaps <b>"
    assert "Identify\ngaps <b>" in mail.text and "https://pi.example.org/tasks/6f1c" in mail.text
    assert "gaps &lt;b&gt;" in mail.html and "A&amp;B" in mail.html and "<b>" not in mail.html
    assert 'href="https://pi.example.org/account"' in mail.html


def test_a_long_title_is_cut_in_the_subject_and_whole_in_the_body():
    title = "Implement: " + "a digital intake form for every permit " * 8
    mail = Writer("en", "https://pi.example.org").assigned("dana", replace(TASK, title=title))
    assert mail.subject == "Assigned to you: " + title[:79].rstrip() + "…"
    assert " ".join(title.split()) in " ".join(mail.text.split())


def test_a_title_cannot_turn_the_rest_of_its_line_around():
    task = TaskMention("6f1c", "Implement: \u202eevil\u2069", "Faster permits", "Roads", None)
    mail = Writer("en", "https://pi.example.org").assigned("dana", task)
    assert mail.text.splitlines()[2] == (
        "The task “\u2068Implement: evil\u2069” of the cycle “\u2068Faster permits\u2069” "
        "(\u2068Roads\u2069) is assigned to you."
    )
    assert "\u202e" not in mail.html.partition("<body>")[2]  # the subject ends with it


def test_a_title_written_as_an_encoded_word_adds_no_header_nor_body():
    title = "=?utf-8?q?x=0D=0AReply-To:_evil@example.com=0D=0A=0D=0AFake_body?="
    mail = Writer("en", "https://pi.example.org").assigned("dana", replace(TASK, title=title))
    written = datetime(2026, 4, 1, tzinfo=UTC)
    email = email_of(
        "picycle@pi.example.org",
        "dana@example.org",
        mail.subject,
        mail.text,
        mail.html,
        "<1@pi.example.org>",
        "en",
        written,
    )
    sent = message_from_bytes(email.as_bytes(), policy=policy.default)
    assert sent.keys() == email.keys() and "Reply-To" not in sent
    assert sent.get_body(("plain",)).get_content() == mail.text
    assert sent["Subject"].replace("\u200b", "") == f"Assigned to you: {title}"


@pytest.mark.parametrize(
    "title",
    ["=?utf-8?q?Pay_now?=", "Roads =?utf-8?b?2LnYsdio2Yo=?= and =?iso-8859-1?q?caf=E9?="],
)
def test_a_title_written_as_an_encoded_word_reaches_the_reader_as_written(title):
    # A mail reader decodes a subject's encoded words once: the title's own must arrive
    # as its text, not as what they would decode to.
    email = email_of(
        "picycle@pi.example.org",
        "dana@example.org",
        f"Assigned to you: {title}",
        "text",
        "<p>text</p>",
        "<1@pi.example.org>",
        "en",
        datetime(2026, 4, 1, tzinfo=UTC),
    )
    sent = message_from_bytes(email.as_bytes(), policy=policy.default)
    assert sent["Subject"].replace("\u200b", "") == f"Assigned to you: {title}"


def test_arabic_runs_right_to_left_with_arabic_dates():
    due = TaskMention("6f1c", "Plan", "Permits", "Roads", datetime(2026, 4, 1, tzinfo=UTC))
    mail = Writer("ar", "https://pi.example.org").digest("dana", date(2026, 4, 2), [due], 3, 1)
    assert '<html lang="ar" dir="rtl">' in mail.html
    assert mail.subject.startswith("مهامك في")
    assert "متأخرة منذ" in mail.text  # overdue since the first of April
    assert "و2 غيرها" in mail.text  # and two more


@pytest.mark.parametrize(
    ("tag", "language"), [("nl-BE", "nl"), ("ar", "ar"), (None, "en"), ("fr", "en"), ("AR", "ar")]
)
def test_the_users_language_tag_picks_a_catalog(tag, language):
    assert language_of(tag) == language


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.delenv("PICYCLE_SMTP_HOST", raising=False)
    assert SmtpSettings.from_environment("https://pi.example.org") is None
    monkeypatch.setenv("PICYCLE_SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("PICYCLE_SMTP_SECURITY", "ssl")
    settings = SmtpSettings.from_environment("https://pi.example.org:8443/")
    assert (settings.port, settings.sender) == (465, "picycle@pi.example.org")
    monkeypatch.setenv("PICYCLE_BASE_URL", "https://pi.example.org/picycle/")
    assert base_url() == "https://pi.example.org/picycle"
    monkeypatch.setenv("PICYCLE_DIGEST_AT", "06:30")
    assert digest_time().isoformat() == "06:30:00"


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("PICYCLE_SMTP_SECURITY", "tls1.0", "PICYCLE_SMTP_SECURITY"),
        ("PICYCLE_SMTP_PORT", "70000", "PICYCLE_SMTP_PORT"),
        ("PICYCLE_SMTP_USER", "mailer", "together"),
    ],
)
def test_a_bad_smtp_setting_stops_with_its_name(monkeypatch, name, value, said):
    monkeypatch.setenv("PICYCLE_SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=said):
        SmtpSettings.from_environment("https://pi.example.org")


@pytest.mark.parametrize(
    ("name", "value"),
    [("PICYCLE_BASE_URL", "javascript:alert(1)"), ("PICYCLE_DIGEST_AT", "7 o'clock")],
)
def test_a_bad_link_or_digest_time_stops_with_its_name(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=name):
        base_url() if name == "PICYCLE_BASE_URL" else digest_time()
