"""Reading posted form fields back into JSON by the task's schema, and building the fields
from it (no database: the schemas are the shipped forms)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from picycle.engine.read_models import NO_TEXTS, ProcessTexts
from picycle.engine.texts import Catalog
from picycle.pages import forms
from picycle.pages.i18n import init_languages

FORMS = Path(__file__).resolve().parents[2] / "processes" / "forms"


def schema(name: str) -> dict:
    return json.loads((FORMS / f"{name}.schema.json").read_text())


@pytest.fixture(autouse=True)
def request_context():
    app = Flask(__name__)
    init_languages(app)
    with app.test_request_context():
        yield


@pytest.mark.parametrize(
    "typed, read",
    [
        ("55", 55),
        ("55.5", 55.5),
        ("55,5", 55.5),
        ("-3", -3),
        ("٥٥", 55),
        (" 7 ", 7),
        ("1e3", 1000.0),
    ],
)
def test_numbers_are_typed(typed, read):
    data, problems = forms.parse(schema("assess-performance"), {"indicators.0.baseline": typed})
    assert (data, problems) == ({"indicators": [{"baseline": read}]}, {})
    assert type(data["indicators"][0]["baseline"]) is type(read)


@pytest.mark.parametrize("typed", ["eighty", "nan", "inf", "1e999", "5 5"])
def test_what_is_not_a_number_is_kept_as_typed_and_named(typed):
    data, problems = forms.parse(schema("assess-performance"), {"indicators.0.target": typed})
    assert data == {"indicators": [{"target": typed}]}
    assert problems == {"indicators.0.target": ["Enter a number."]}


def test_whole_numbers_and_empty_optional_fields():
    form = {
        "gaps.0.impact": "4.0",
        "gaps.0.effort": "2.5",
        "gaps.0.cause": "",
        "gaps.1.cause": "  ",
        "gaps.1.impact": "",
    }
    data, problems = forms.parse(schema("identify-gaps"), form)
    assert data == {"gaps": [{"impact": 4, "effort": "2.5"}]}  # the blank row is left out
    assert problems == {"gaps.0.effort": ["Enter a whole number."]}


def test_read_only_fields_at_the_top_are_not_read_and_rows_keep_their_order():
    form = {
        "unit": "forged",
        "indicators.10.key": "b",
        "indicators.2.key": "a",
        "indicators.x.key": "ignored",
    }
    data, _ = forms.parse(schema("assess-performance"), form)
    assert data == {"indicators": [{"key": "a"}, {"key": "b"}]}


def test_booleans_arrays_of_text_and_nul_characters():
    data, _ = forms.parse(schema("leadership-approval"), {})
    assert data == {"approved": False}
    form = {"standardised_practices.0": "Checklist", "presented_to": "All\x00 staff"}
    data, problems = forms.parse(schema("institutionalise-and-share"), form)
    assert data == {"standardised_practices": ["Checklist"], "presented_to": "All staff"}
    assert problems == {"presented_to": ["Remove the NUL character."]}


def test_rows_are_added_and_removed_by_path():
    data = {"indicators": [{"key": "a"}, {"key": "b"}]}
    forms.change_rows(data, "indicators", None)
    forms.change_rows(data, None, "indicators.0")
    assert data == {"indicators": [{"key": "b"}, None]}
    for forged in ("indicators.7", "indicators.-1", "nothing.0", "indicators.0.key.0"):
        forms.change_rows(data, None, forged)
    assert data == {"indicators": [{"key": "b"}, None]}


def test_fields_carry_their_errors_and_the_summary_names_them():
    built = forms.build(
        schema("assess-performance"),
        {"unit": "Planning", "indicators": [{"key": "k"}]},
        {"indicators.0.target": ["Enter a number."], "data": ["whole form"]},
        NO_TEXTS.text,
    )
    assert [label for label, _, _ in built.context] == ["Unit"]
    (indicators,) = built.fields
    assert (indicators.kind, indicators.resizable) == ("rows", True)
    target = indicators.children[0].children[-1]
    assert (target.path, target.errors) == ("indicators.0.target", ["Enter a number."])
    assert built.stray == {"data": ["whole form"]}
    assert built.label_of("indicators.0.target") == "Indicators, row 1: Target"


def test_rows_with_read_only_parts_are_fixed_and_their_parts_shown():
    gaps = [{"indicator": "permits", "gap": 25, "cause": "Paper"}]
    (field,) = forms.build(schema("identify-gaps"), {"gaps": gaps}, {}, NO_TEXTS.text).fields
    assert not field.resizable
    row = {part.path: part for part in field.children[0].children}
    assert (row["gaps.0.indicator"].kind, row["gaps.0.indicator"].shown_value) == (
        "shown",
        "permits",
    )
    assert row["gaps.0.cause"].kind == "textarea"
    assert row["gaps.0.impact"].kind == "integer"
    assert row["gaps.0.cause_category"].kind == "choice"


def test_a_form_speaks_the_catalogs_language_and_falls_back_to_english():
    texts = ProcessTexts(
        Catalog(
            {"Gaps": "Knelpunten", "Cause category": "Oorzaakcategorie", "incentives": "prikkels"}
        ),
        Catalog({"tools_resources": "tools and resources"}),
    )
    (field,) = forms.build(schema("identify-gaps"), {"gaps": [{}]}, {}, texts.text).fields
    assert field.label == "Knelpunten"
    row = {part.path: part for part in field.children[0].children}
    category = row["gaps.0.cause_category"]
    assert category.label == "Oorzaakcategorie"
    labels = dict(category.options)
    assert labels["incentives"] == "prikkels"  # translated
    assert labels["tools_resources"] == "tools and resources"  # English label
    assert labels["motives"] == "motives"  # neither: the value itself
    assert row["gaps.0.cause"].label == "Cause"  # untranslated: as the form has it
