"""The command line's tables in a terminal that applies the Unicode bidi algorithm."""

from __future__ import annotations

from picycle.cli.render import table


def test_an_override_left_open_in_a_cell_stays_in_its_cell(capsys):
    # U+202E (right-to-left override) with no closing U+202C would turn everything after it
    # around on screen, the following columns included; isolated, it ends with its cell.
    table(("indicator", "unit"), [("\u202eevil", "days"), ("permits", "days")])
    header, hostile, plain = capsys.readouterr().out.splitlines()
    # The override takes no column on screen: "evil" is padded as four columns wide.
    assert hostile == "\u200e\u2068\u202eevil\u2069" + " " * 7 + "days"
    assert plain == "permits    days" and header == "indicator  unit"


def test_a_left_to_right_table_is_printed_as_it_is(capsys):
    table(("name", "role"), [("dana", "member")])
    assert capsys.readouterr().out == "name  role\ndana  member\n"
