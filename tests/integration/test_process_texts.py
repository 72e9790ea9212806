"""A bundle's translation catalogs: checked at deploy, kept with the version deployed, so
that a running cycle keeps its version's texts; what a catalog lacks falls back to English."""

from __future__ import annotations

import json
import shutil

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import name_problems, read_bundle, shipped_processes
from picycle.engine.errors import InvalidModel
from picycle.engine.services import cycles, definitions
from picycle.engine.services.process_texts import cycle_texts

from tests.support import UNIT, ensure_unit


@pytest.fixture
def draft(tmp_path):
    folder = tmp_path / "processes"
    shutil.copytree(shipped_processes(), folder)
    return folder


def deploy(engine, folder):
    with engine.unit_of_work() as uow:
        return definitions.deploy(uow, SYSTEM, read_bundle(folder))


def start(engine, title="Faster permits") -> int:
    ensure_unit(engine, UNIT)
    with engine.unit_of_work() as uow:
        return cycles.start_cycle(uow, SYSTEM, UNIT, title).id


def texts(engine, cycle_id, language):
    with engine.unit_of_work(write=False) as uow:
        return cycle_texts(uow, [cycle_id], language)[cycle_id]


def test_the_shipped_catalogs_translate_every_text_of_the_process():
    folder = shipped_processes() / "translations"
    catalogs = {
        language: json.loads((folder / f"{language}.json").read_text()) for language in ("nl", "ar")
    }
    assert catalogs["nl"].keys() == catalogs["ar"].keys()
    for form in (shipped_processes() / "forms").glob("*.json"):
        schema = json.loads(form.read_text())
        assert schema["title"] in catalogs["ar"], form.name
        assert schema["description"] in catalogs["ar"], form.name


def test_a_cycle_reads_its_versions_texts_with_english_fallback(engine, draft):
    cycle_id = start(engine)
    nl = texts(engine, cycle_id, "nl")
    assert nl.text("Assess performance") == "Prestaties beoordelen"
    assert nl.text("incentives") == "prikkels"
    assert nl.text("Not in any catalog") == "Not in any catalog"
    assert texts(engine, cycle_id, "fr").text("tools_resources") == "tools and resources"
    assert texts(engine, cycle_id, "fr").text("Assess performance") == "Assess performance"

    catalog = draft / "translations" / "nl.json"
    changed = json.loads(catalog.read_text()) | {"Assess performance": "Prestaties meten"}
    catalog.write_text(json.dumps(changed, ensure_ascii=False))
    deploy(engine, draft)
    # The running cycle keeps the texts of the version it runs; a new cycle gets the new ones.
    assert texts(engine, cycle_id, "nl").text("Assess performance") == "Prestaties beoordelen"
    with engine.unit_of_work() as uow:
        cycles.cancel_cycle(uow, SYSTEM, cycle_id, "make way")
    later = start(engine, "Second")
    assert texts(engine, later, "nl").text("Assess performance") == "Prestaties meten"


@pytest.mark.parametrize(
    ("name", "content", "fault"),
    [
        ("translations/nl.json", "[1, 2]", "one JSON object"),
        ("translations/nl.json", "{not json", "not valid JSON"),
        ("translations/nl.json", '{"Unit": 3}', "must be a string"),
        ("translations/nl.json", '{"Unit": " "}', "may be empty"),
        ("translations/nl.json", '{"Implement: {}": "Uitvoeren"}', "as many {} slots"),
        ("translations/nl.json", '{"{} {}": "{} {}"}', "needs words beside"),
        (
            "translations/nl.json",
            json.dumps({f"Step {n}: {{}}": f"Stap {n}: {{}}" for n in range(101)}),
            "over the limit of 100",
        ),
        ("translations/Dutch language.json", "{}", "not named for a language"),
    ],
)
def test_a_bad_catalog_is_refused_at_deploy(engine, draft, name, content, fault):
    (draft / name).write_text(content)
    with pytest.raises(InvalidModel) as refused:
        deploy(engine, draft)
    problems = [p for p in refused.value.problems if p["file"] == name]
    assert problems and fault in problems[0]["message"]


def test_catalogs_live_in_their_own_folder_only():
    assert name_problems({"translations/nl.json": b"{}"}) == {}
    assert "folder" in name_problems({"texts/nl.json": b"{}"})["texts/nl.json"]
    assert ".json" in name_problems({"translations/nl.po": b""})["translations/nl.po"]


def test_a_computed_title_is_translated_by_its_pattern(engine, draft):
    cycle_id = start(engine)
    nl, ar = texts(engine, cycle_id, "nl"), texts(engine, cycle_id, "ar")
    assert nl.text("Implement: Digital permit intake") == "Uitvoeren: Digital permit intake"
    assert ar.text("Implement: Digital permit intake") == "تنفيذ: Digital permit intake"
    assert nl.text("Implement microproject") == "Microproject uitvoeren"  # whole texts first
    assert nl.text("Implement:") == "Implement:"  # a slot holds something
    assert nl.text("Not implement: x") == "Not implement: x"  # a pattern matches whole


def test_patterns_take_linear_time_whatever_the_text(engine, draft):
    catalog = draft / "translations" / "nl.json"
    many_slots = {"{} of {} of {} of {}": "{} van {} van {} van {}"}
    catalog.write_text(json.dumps(json.loads(catalog.read_text()) | many_slots))
    deploy(engine, draft)
    cycle_id = start(engine)
    hostile = " of ".join(["x"] * 20_000) + "!"
    # On a backtracking engine this pattern takes hours on that text; RE2 answers at once.
    translated = texts(engine, cycle_id, "nl").text(hostile)
    assert translated == "x van x van x van " + " of ".join(["x"] * 19_997) + "!"
