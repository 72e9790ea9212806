"""The validator on real-world BPMN: the OMG BPMN MIWG reference models (CC BY 3.0, see
tests/data/bpmn-miwg/README.md). None of them is written for picycle, so most are refused;
what matters is that the validator never crashes and always says where the trouble is."""

from __future__ import annotations

from pathlib import Path

import pytest
from picycle.engine.forms import parse_form
from picycle.engine.rules import RULES
from picycle.engine.spiff.validation import ERROR, validate_bundle

MIWG = Path(__file__).parents[1] / "data" / "bpmn-miwg"
MODELS = sorted(MIWG.glob("*.bpmn"))


def validate(model: Path):
    return validate_bundle(
        {model.name: model.read_bytes()}, rule_names=RULES.keys(), parse_form=parse_form
    )


def test_the_reference_models_are_there():
    assert len(MODELS) >= 20


@pytest.mark.parametrize("model", MODELS, ids=[model.name for model in MODELS])
def test_a_reference_model_is_validated_without_crashing(model):
    problems = validate(model)
    assert isinstance(problems, list)
    assert all(problem.message and problem.file for problem in problems)
    assert not any("could not finish" in problem.message for problem in problems)
    errors = [problem for problem in problems if problem.severity == ERROR]
    if errors:
        assert any(error.element_id or error.line for error in errors)


def test_a_juel_condition_in_a_reference_model_gets_the_python_to_write():
    model = MIWG / "C.1.0.bpmn"
    problems = validate(model)
    juel = [p for p in problems if "write the Python expression approved" in p.message]
    assert juel and juel[0].line and juel[0].element_id
