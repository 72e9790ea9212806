"""The notifications' e-mails, written in the recipient's language: a subject, and a body
made of blocks (paragraphs, links, lists) rendered once as plain text and once as HTML.

Everything a user or a model wrote (names, titles) is escaped in the HTML part; the text
part is plain text and needs no escaping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape

from babel import Locale
from babel.dates import format_date
from babel.support import NullTranslations

from ..inputs import DIRECTION_CONTROLS
from .catalogs import catalog


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Items:
    """A list, one line each."""

    lines: tuple[str, ...]


Block = str | Link | Items


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class TaskMention:
    """What an e-mail says of a task: its title, its cycle and unit, its due time, and
    where it opens."""

    id: str
    title: str
    cycle: str
    unit: str
    due_at: datetime | None

    def link(self, base_url: str) -> str:
        return f"{base_url}/tasks/{self.id}"


@dataclass(frozen=True)
class Writer:
    """Writes e-mails in one language, with links under ``base_url`` (the pages' URL)."""

    language: str
    base_url: str

    @property
    def t(self) -> NullTranslations:
        return catalog(self.language)

    def day(self, moment: datetime | date) -> str:
        return format_date(moment, "medium", locale=self.language)

    def _task_line(self, task: TaskMention) -> str:
        return self.t.gettext("“%(task)s” of the cycle “%(cycle)s” (%(unit)s)") % {
            "task": _isolated(task.title),
            "cycle": _isolated(task.cycle),
            "unit": _isolated(task.unit),
        }

    def _due(self, task: TaskMention) -> list[Block]:
        if task.due_at is None:
            return []
        return [self.t.gettext("Due on %(day)s.") % {"day": self.day(task.due_at)}]

    def _open(self, task: TaskMention) -> Link:
        return Link(self.t.gettext("Open the task"), task.link(self.base_url))

    def assigned(self, name: str, task: TaskMention) -> Mail:
        subject = self.t.gettext("Assigned to you: %(task)s") % {"task": _short(task.title)}
        said = self.t.gettext("The task %(task)s is assigned to you.")
        return self.mail(
            name,
            subject,
            [said % {"task": self._task_line(task)}, *self._due(task), self._open(task)],
        )

    def group_open(self, name: str, task: TaskMention, group: str) -> Mail:
        subject = self.t.gettext("New task for %(group)s: %(task)s") % {
            "group": group,
            "task": _short(task.title),
        }
        said = self.t.gettext("The task %(task)s is open to %(group)s: any of you may take it on.")
        return self.mail(
            name,
            subject,
            [
                said % {"task": self._task_line(task), "group": group},
                *self._due(task),
                self._open(task),
            ],
        )

    def overdue(self, name: str, task: TaskMention) -> Mail:
        assert task.due_at is not None, "only a task with a due date falls overdue"
        subject = self.t.gettext("Overdue: %(task)s") % {"task": _short(task.title)}
        said = self.t.gettext("The task %(task)s was due on %(day)s and is still open.")
        line = said % {"task": self._task_line(task), "day": self.day(task.due_at)}
        return self.mail(name, subject, [line, self._open(task)])

    def digest(
        self, name: str, day: date, tasks: Sequence[TaskMention], total: int, overdue: int
    ) -> Mail:
        subject = self.t.gettext("Your tasks on %(day)s") % {"day": self.day(day)}
        counts = self.t.gettext("Open tasks: %(open)d. Overdue: %(overdue)d.") % {
            "open": total,
            "overdue": overdue,
        }
        lines = tuple(self._digest_line(task, day) for task in tasks)
        blocks: list[Block] = [counts, Items(lines)]
        if total > len(tasks):
            more = self.t.gettext("And %(more)d more in your inbox.")
            blocks.append(more % {"more": total - len(tasks)})
        blocks.append(Link(self.t.gettext("Open your inbox"), f"{self.base_url}/"))
        return self.mail(name, subject, blocks)

    def _digest_line(self, task: TaskMention, day: date) -> str:
        line = self._task_line(task)
        if task.due_at is None:
            return line
        if task.due_at.date() < day:
            late = self.t.gettext("%(task)s, overdue since %(day)s")
            return late % {"task": line, "day": self.day(task.due_at)}
        return self.t.gettext("%(task)s, due on %(day)s") % {
            "task": line,
            "day": self.day(task.due_at),
        }

    def mail(self, name: str, subject: str, blocks: Sequence[Block]) -> Mail:
        """The e-mail: a greeting, ``blocks``, and where the user changes what they get."""
        greeting = self.t.gettext("Hello %(name)s,") % {"name": name}
        why = self.t.gettext("You get this e-mail because of your notification settings.")
        settings = Link(self.t.gettext("Change them"), f"{self.base_url}/account")
        every = [greeting, *blocks, why, settings]
        # A header is one line: a title with line breaks in it must not break it.
        subject = " ".join(subject.split())
        return Mail(subject, _text(every), _html(self.language, subject, every))


# A task's title in a subject is cut to this many characters (the body gives it whole): a
# subject longer than an inbox's line says less, not more.
SUBJECT_TITLE = 80


def _short(title: str) -> str:
    return title if len(title) <= SUBJECT_TITLE else title[: SUBJECT_TITLE - 1].rstrip() + "…"


_DROPPED = dict.fromkeys(map(ord, DIRECTION_CONTROLS))


def _isolated(value: str) -> str:
    """What a user or a model wrote, set apart from the sentence that quotes it (FSI ...
    PDI, as the pages' ``<bdi>``), its own direction controls dropped: a title cannot turn
    the rest of the line around (the cycle, the unit, the words of the e-mail)."""
    return f"\u2068{value.translate(_DROPPED)}\u2069"


def _text(blocks: Sequence[Block]) -> str:
    parts = []
    for block in blocks:
        if isinstance(block, Link):
            parts.append(f"{block.label}: {block.url}")
        elif isinstance(block, Items):
            parts.append("\n".join(f"- {line}" for line in block.lines))
        else:
            parts.append(block)
    return "\n\n".join(parts) + "\n"


def _html(language: str, subject: str, blocks: Sequence[Block]) -> str:
    direction = "rtl" if Locale.parse(language).text_direction == "rtl" else "ltr"
    parts = []
    for block in blocks:
        if isinstance(block, Link):
            parts.append(f'<p><a href="{escape(block.url)}">{escape(block.label)}</a></p>')
        elif isinstance(block, Items):
            items = "".join(f"<li>{escape(line)}</li>" for line in block.lines)
            parts.append(f"<ul>{items}</ul>")
        else:
            parts.append(f"<p>{escape(block)}</p>")
    body = "\n".join(parts)
    return (
        f'<!doctype html>\n<html lang="{language}" dir="{direction}">\n'
        f'<head><meta charset="utf-8"><title>{escape(subject)}</title></head>\n'
        f"<body>\n{body}\n</body>\n</html>\n"
    )
