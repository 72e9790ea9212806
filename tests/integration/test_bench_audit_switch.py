"""bench.audit sets a completion with its audit against one without: the arm without
drops the events, but still writes the e-mails they call for (notifications are not the
audit, and measuring them as its cost overstated the audit's share)."""

from __future__ import annotations

from picycle.engine.actors import SYSTEM
from picycle.engine.db.models import AuditEvent, OutboxMessage
from picycle.engine.services import notification_settings
from sqlalchemy import func, select

from bench.audit import AuditSwitch
from tests.support import PEOPLE


def counted(driver, model) -> int:
    with driver.engine.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_the_arm_without_audit_writes_no_events_and_every_e_mail(driver):
    for name in PEOPLE:
        with driver.engine.unit_of_work() as uow:
            notification_settings.change_settings(uow, SYSTEM, name, email=f"{name}@example.org")
    cycle_id = driver.start()
    events, mails = counted(driver, AuditEvent), counted(driver, OutboxMessage)
    switch = AuditSwitch()
    with switch.installed():
        switch.arm = "off"
        driver.assess(cycle_id)  # opens identify_gaps to the department team
    assert switch.events["off"] > 0
    assert counted(driver, AuditEvent) == events
    assert counted(driver, OutboxMessage) == mails + 2  # dana and omar
