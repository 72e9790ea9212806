"""The leadership report as a PDF: one A4 page per cycle, in the reader's language.

fpdf2 lays the page out; with its text shaping on (HarfBuzz, through uharfbuzz), Arabic is
shaped and ordered by the Unicode bidirectional algorithm, and an Arabic page runs right to
left. The chart is matplotlib's (``report_chart``), embedded as vectors. All three install
from PyPI as wheels that carry their own native code, so the report needs nothing from the
system: no Pango, no fonts, no browser.

The font is DejaVu Sans, which covers Latin and Arabic in one face. It is the copy that
ships inside matplotlib (its ``mpl-data``, under DejaVu's free licence, ``LICENSE_DEJAVU``
beside it): installing picycle installs matplotlib, so the font is there wherever the
report can be made, and the chart and the text share it.

Everything the page says comes from the catalogs (``catalogs``), dates and numbers in the
reader's locale. The page never overflows: lists and long texts are cut, saying how many
items were left out, until the whole fits on one page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path

import matplotlib
from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from fpdf import FPDF
from fpdf.enums import TableCellFillMode
from fpdf.fonts import FontFace
from picycle.engine.read_models import Decision, LeadershipReport, MicroprojectOutcome

from .catalogs import LANGUAGES, SOURCE_LANGUAGE, compiled
from .report_chart import ChartWords, indicator_chart

RIGHT_TO_LEFT = {"ar"}
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT = "report"
# Tried in turn, most first, until the page holds everything: (items per list, characters
# per text).
BUDGETS = ((8, 300), (6, 200), (5, 140), (4, 100), (3, 70), (2, 50), (1, 40))
INK = (33, 33, 33)
MUTED = (90, 90, 90)
RULE = (200, 200, 200)


@dataclass(frozen=True)
class _Words:
    """The catalog and the locale's formats, for one reader."""

    language: str
    gettext: Callable[[str], str]

    def number(self, value: float | None) -> str:
        return "" if value is None else format_decimal(value, locale=self.language)

    def day(self, value: datetime | str | None) -> str:
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                return value
        return format_date(value, "long", locale=self.language) if value else ""

    def moment(self, value: datetime) -> str:
        """The day and the hour and minute, in UTC."""
        day = format_date(value, "medium", locale=self.language)
        return f"{day} {format_time(value, 'short', tzinfo=UTC, locale=self.language)}"


def report_language(asked: str | None) -> str:
    """One of the report's languages: the one asked for, else English."""
    return asked if asked in LANGUAGES else SOURCE_LANGUAGE


def render_report(report: LeadershipReport, language: str) -> bytes:
    """The report as PDF bytes, on exactly one page."""
    words = _Words(language, compiled(language).gettext)

    def laid_out(budget: tuple[int, int]) -> _Page:
        pdf = _Page(words, *budget)
        pdf.report(report)
        return pdf

    fitting = laid_out(BUDGETS[0])  # most cycles fit at once
    if fitting.pages_count > 1:
        # The most generous budget that fits, found by halving: each try lays out the page.
        low, high = 1, len(BUDGETS) - 1
        while low <= high:
            middle = (low + high) // 2
            pdf = laid_out(BUDGETS[middle])
            if pdf.pages_count == 1:
                fitting, high = pdf, middle - 1
            else:
                low = middle + 1
    if fitting.pages_count > 1:
        raise RuntimeError("the leadership report does not fit on one page")
    return bytes(fitting.output())


class _Page(FPDF):
    def __init__(self, words: _Words, items: int, characters: int):
        super().__init__(format="A4", unit="mm")
        self.words = words
        self.items = items
        self.characters = characters
        self.rtl = words.language in RIGHT_TO_LEFT
        self.align = "R" if self.rtl else "L"
        self.set_margins(15, 12, 15)
        self.set_auto_page_break(True, margin=12)
        self.add_font(FONT, "", FONT_DIR / "DejaVuSans.ttf")
        self.add_font(FONT, "B", FONT_DIR / "DejaVuSans-Bold.ttf")
        self.set_text_shaping(use_shaping_engine=True, direction="rtl" if self.rtl else "ltr")
        self.set_lang(words.language)
        self.set_creator("picycle")
        self.add_page()

    # --- the report's parts ------------------------------------------------------------

    def report(self, report: LeadershipReport) -> None:
        _ = self.words.gettext
        cycle = report.cycle
        self.set_title(f"{_('Leadership report')}: {cycle.title}")
        self.line_of(_("Leadership report"), size=9, colour=MUTED)
        self.line_of(self.cut(cycle.title), size=16, bold=True)
        self.line_of(
            _("%(unit)s, cycle %(number)s of the unit")
            % {"unit": self.cut(cycle.unit), "number": self.words.number(cycle.cycle_number)},
            size=10,
        )
        self.line_of(self.summary(report), size=9, colour=MUTED)
        self.heading(_("Indicators before and after"))
        self.indicators(report)
        self.heading(_("Microprojects and what they delivered"))
        self.microprojects(report.microprojects)
        self.heading(_("Lessons learned"))
        self.bullets(report.lessons_learned, _("None recorded yet."))
        if report.standardised_practices:
            self.heading(_("Standardised practices"))
            self.bullets(report.standardised_practices, "")
        self.heading(_("Decisions"))
        self.decisions(report.decisions)
        self.ln(2)
        self.line_of(
            _("As of %(moment)s (UTC)") % {"moment": self.words.moment(report.as_of)},
            size=7,
            colour=MUTED,
        )

    def summary(self, report: LeadershipReport) -> str:
        _ = self.words.gettext
        cycle = report.cycle
        statuses = {"running": _("Running"), "completed": _("Completed")}
        period = self.words.day(cycle.started_at)
        if cycle.ended_at:
            period = f"{period} – {self.words.day(cycle.ended_at)}"
        met = {True: _("Yes"), False: _("No"), None: _("Not evaluated yet")}
        parts = [
            statuses.get(cycle.status, _("Cancelled")),
            period,
            _("Targets met: %(met)s") % {"met": met[cycle.targets_met]},
            _("Gaps closed: %(closed)s of %(found)s")
            % {
                "closed": self.words.number(cycle.gaps_closed),
                "found": self.words.number(cycle.gaps_found),
            },
        ]
        return " · ".join(parts)

    def indicators(self, report: LeadershipReport) -> None:
        _ = self.words.gettext
        shown, hidden = self.first(report.cycle.indicators)
        if not shown:
            self.line_of(_("No indicators recorded yet."), size=9)
            return
        chart = indicator_chart(
            shown,
            ChartWords(_("Baseline"), _("Target"), _("Actual"), _("Not measured")),
            self.words.number,
            self.rtl,
        )
        self.image(BytesIO(chart), x=self.l_margin, w=self.epw)
        met = {True: _("Yes"), False: _("No"), None: "–"}
        self.grid(
            [_("Indicator"), _("Baseline"), _("Target"), _("Actual"), _("Target met")],
            [
                [
                    self.cut(i.name + (f" ({i.measure})" if i.measure else "")),
                    self.words.number(i.baseline),
                    self.words.number(i.target),
                    self.words.number(i.actual),
                    met[i.met],
                ]
                for i in shown
            ],
            (40, 12, 12, 12, 14),
        )
        self.more(hidden)

    def microprojects(self, projects: Sequence[MicroprojectOutcome]) -> None:
        _ = self.words.gettext
        shown, hidden = self.first(projects)
        if not shown:
            self.line_of(_("No microprojects designed yet."), size=9)
        statuses = {
            "done": _("Done"),
            "partial": _("Partly done"),
            "not_done": _("Not done"),
        }
        for project in shown:
            owner = _("owner %(owner)s, due %(due)s") % {
                "owner": self.cut(project.owner or "–"),
                "due": self.words.day(project.due) or "–",
            }
            self.line_of(f"{self.cut(project.title)} ({owner})", size=9, bold=True)
            if project.deliverable:
                self.line_of(
                    _("Deliverable: %(text)s") % {"text": self.cut(project.deliverable)}, size=8
                )
            delivered = statuses.get(project.status or "", _("Not reported yet"))
            if project.report:
                delivered = f"{delivered}: {self.cut(project.report)}"
            self.line_of(_("Delivered: %(text)s") % {"text": delivered}, size=8, colour=MUTED)
        self.more(hidden)

    def decisions(self, decisions: Sequence[Decision]) -> None:
        _ = self.words.gettext
        # The latest decisions matter most to leadership: the earliest are the ones cut.
        hidden = max(0, len(decisions) - self.items)
        shown = decisions[hidden:]
        if not shown:
            self.line_of(_("No decisions taken yet."), size=9)
            return
        steps = {
            "leadership_approval": _("Leadership approval"),
            "institutionalise_and_share": _("Institutionalise and share"),
            "decide_on_cycle": _("Decide on cycle"),
        }
        outcomes = {
            "approved": _("Approved"),
            "sent_back": _("Sent back"),
            "institutionalised": _("Institutionalised"),
            "continue": _("Continue in the next cycle"),
            "close": _("Closed"),
        }
        if hidden:
            self.more(hidden, earlier=True)
        self.grid(
            [_("When"), _("Step"), _("Decision"), _("Decided by"), _("Comment")],
            [
                [
                    self.words.moment(d.decided_at),
                    steps.get(d.element_id, d.element_id),
                    outcomes.get(d.outcome, d.outcome),
                    self.cut(d.decided_by),
                    self.cut(d.comment or ""),
                ]
                for d in shown
            ],
            (22, 22, 16, 14, 36),
        )

    def bullets(self, texts: Sequence[str], empty: str) -> None:
        shown, hidden = self.first(texts)
        if not shown and empty:
            self.line_of(empty, size=9)
        for text in shown:
            self.line_of(f"• {self.cut(text)}", size=9)
        self.more(hidden)

    # --- drawing ----------------------------------------------------------------------

    def first(self, items: Sequence) -> tuple[Sequence, int]:
        return items[: self.items], max(0, len(items) - self.items)

    def cut(self, text: str) -> str:
        """Someone's own words, cut to the budget; on a right-to-left page set apart (a
        Unicode first-strong isolate), so that an English name keeps its brackets and order
        there."""
        cut = text if len(text) <= self.characters else text[: self.characters - 1] + "…"
        return f"\u2068{cut}\u2069" if self.rtl else cut

    def more(self, hidden: int, earlier: bool = False) -> None:
        if hidden:
            _ = self.words.gettext
            message = _("… and %(count)s earlier") if earlier else _("… and %(count)s more")
            self.line_of(message % {"count": self.words.number(hidden)}, size=8, colour=MUTED)

    def heading(self, text: str) -> None:
        self.ln(2)
        self.line_of(text, size=11, bold=True)
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(1)

    def line_of(self, text: str, size: float, bold: bool = False, colour=INK) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.set_text_color(*colour)
        self.multi_cell(0, size * 0.5, text, align=self.align, new_x="LMARGIN", new_y="NEXT")

    def grid(self, headings: list[str], rows: list[list[str]], widths: tuple) -> None:
        """Columns run from the right on a right-to-left page."""
        order = (lambda cells: cells[::-1]) if self.rtl else (lambda cells: cells)
        self.set_font(FONT, "", 8)
        self.set_text_color(*INK)
        self.set_draw_color(*RULE)
        with self.table(
            col_widths=order(widths),
            text_align=self.align,
            line_height=4,
            cell_fill_color=(245, 245, 245),
            cell_fill_mode=TableCellFillMode.ROWS,
            headings_style=FontFace(emphasis="BOLD"),
            padding=1,
        ) as table:
            for cells in [headings, *rows]:
                row = table.row()
                for cell in order(cells):
                    row.cell(cell)
