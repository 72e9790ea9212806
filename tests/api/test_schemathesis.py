"""A property-based run of the whole OpenAPI document against the app, in-process.

For every operation, schemathesis generates requests from the document, valid ones and
ones that break it, sends them as an admin and checks each response: no 5xx, a documented
status code, content type and headers, and a body that matches the documented schema.

schemathesis' own pytest plugin does not run on this pytest (it sets a node attribute
pytest 9.2 no longer has), so the operations are driven through its strategies with plain
Hypothesis.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from picycle.engine.actors import SYSTEM
from picycle.engine.services import users
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

EXAMPLES = 12


@pytest.fixture
def admin_headers(engine):
    with engine.unit_of_work() as uow:
        created = users.add_user(uow, SYSTEM, "fuzz-admin", "admin", ["PI Unit"])
    return {"Authorization": f"Bearer {created.token}"}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_its_documented_contract(app, admin_headers, mode):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 57
    statuses: Counter[int] = Counter()
    failures = []
    for operation in operations:
        try:
            _exercise(operation, mode, admin_headers, statuses)
        except Unsatisfiable:
            # Nothing to break in an operation without parameters or body.
            assert mode is GenerationMode.NEGATIVE, operation.path
        except (Exception, BaseExceptionGroup) as error:  # collect them all, then report
            failures.append(f"{operation.method.upper()} {operation.path}: {error!s}")
    assert not failures, "\n\n".join(failures)
    # The run reached past authentication and validation.
    successes = sum(n for status, n in statuses.items() if status < 300)
    assert successes >= (40 if mode is GenerationMode.POSITIVE else 5), statuses


def _exercise(operation, mode, headers, statuses: Counter[int]) -> None:
    excluded = [positive_data_acceptance] if _takes_any_object(operation) else []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        response = case.call_and_validate(headers=headers, excluded_checks=excluded)
        statuses[response.status_code] += 1

    check()


def _takes_any_object(operation) -> bool:
    """Free-form JSON objects (form data, start data) must not hold NUL characters, which
    the document can say only in words; schemathesis may generate them as valid. Nor can
    it say what makes a bundle of model files valid: generated uploads are refused (4xx).
    Nor which units exist: a body naming a unit that does not (a parent, a membership's
    unit), or a filter naming one, is refused (422)."""
    names_units = operation.path in (
        "/api/v1/users",
        "/api/v1/users/{name}",
        "/api/v1/units",
        "/api/v1/units/{unit_id}",
    )
    if operation.method.upper() in ("POST", "PATCH") and names_units:
        return True
    filters_by_unit = any(p.name == "unit" for p in operation.query)
    if operation.method.upper() == "GET" and filters_by_unit:
        return True
    return operation.method.upper() == "POST" and (
        operation.path.endswith("/complete")
        or operation.path.endswith("/cycles")
        or operation.path.endswith("/process-definitions")
    )
