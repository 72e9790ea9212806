"""The tables picycle keeps. Workflow state lives in ``cycles.state``; everything the inbox,
the CLI and the API list is read from index tables (``tasks``, ``pending_timers``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ..audit.chain import GENESIS
from .types import JsonDocument, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JsonDocument}


class Group(Base):
    __tablename__ = "groups"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    created_at: Mapped[datetime]


class Unit(Base):
    """An organisational unit (ministry, directorate, department) in the organisation's
    tree. Names are unique among siblings."""

    __tablename__ = "units"
    __table_args__ = (
        Index(
            "uq_units_sibling_name",
            text("coalesce(parent_id, 0)"),
            "name",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class UnitPath(Base):
    """The tree's closure: one row per unit and each unit at or above it (``depth`` 0 is
    the unit itself), so "every unit below U" is one indexed lookup, in the same statement
    that authenticates a request."""

    __tablename__ = "unit_paths"

    ancestor_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    descendant_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True, index=True)
    depth: Mapped[int]


class DirectoryVersion(Base):
    """One row whose token triggers replace with every write to users, memberships and
    unit paths (migration 0021): what a process read of them holds while the token does."""

    __tablename__ = "directory_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[int] = mapped_column(BigInteger)


class Membership(Base):
    """A user is a member of a group in a unit (and every unit below it), or, without a
    unit, in the whole organisation."""

    __tablename__ = "memberships"
    __table_args__ = (
        Index(
            "uq_memberships_user_group_unit",
            "user_id",
            "group_name",
            text("coalesce(unit_id, 0)"),
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    group_name: Mapped[str] = mapped_column(ForeignKey("groups.name"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)


class User(Base):
    """Names are stored normalised and lower case (``engine/user_names.py``); the index on
    ``lower(name)`` keeps them unique whatever their case, whoever writes the table."""

    __tablename__ = "users"
    __table_args__ = (Index("uq_users_name_lower", text("lower(name)"), unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    # An argon2id hash (engine/services/passwords.py); None: the user cannot sign in.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # Part of every sign-in session; moved on when the password changes or the user is
    # deactivated, which ends their sessions.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # The language the user chose for the pages (a BCP 47 tag); None: their browser's.
    language: Mapped[str | None] = mapped_column(String(16))
    # Where notifications go (None: none are sent), and which of them the user wants
    # (engine/notifications/).
    email: Mapped[str | None] = mapped_column(String(254))
    notify_assigned: Mapped[bool] = mapped_column(default=True, server_default=true())
    notify_group_open: Mapped[bool] = mapped_column(default=True, server_default=true())
    notify_overdue: Mapped[bool] = mapped_column(default=True, server_default=true())
    notify_digest: Mapped[bool] = mapped_column(default=False, server_default=false())
    memberships: Mapped[list[Membership]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class SingleSignOnLink(Base):
    """The identity a user signs in with at an OpenID Connect provider: its issuer and the
    subject it names the user by, which never changes, unlike an e-mail address or a name."""

    __tablename__ = "single_sign_on_links"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]


class SignInFailure(Base):
    """A failed sign-in, kept for the sliding window that limits them per user name and per
    client address (engine/services/passwords.py); rows past the window are deleted."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_user", "user_name", "at"),
        Index("ix_sign_in_failures_address", "address", "at"),
        Index("ix_sign_in_failures_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Deployment(Base):
    """One upload of a bundle of model files; each process it defines becomes a version."""

    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str] = mapped_column(String(100))
    files: Mapped[list[DeploymentFile]] = relationship(
        cascade="all, delete-orphan", order_by="DeploymentFile.name"
    )


class DeploymentFile(Base):
    __tablename__ = "deployment_files"

    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    content: Mapped[str] = mapped_column(Text)


class ProcessDefinition(Base):
    """One version of one process. The parsed spec is serialized once here, not per cycle."""

    __tablename__ = "process_definitions"
    __table_args__ = (UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(255))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(255))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"), index=True)
    spec: Mapped[str] = mapped_column(Text, deferred=True)
    deployed_at: Mapped[datetime]
    deployment: Mapped[Deployment] = relationship()


class Cycle(Base):
    """One run of the method for one unit: one workflow instance."""

    __tablename__ = "cycles"
    __table_args__ = (
        UniqueConstraint("unit_id", "cycle_number"),
        Index("ix_cycles_status_unit", "status", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(255))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    title: Mapped[str] = mapped_column(String(500))
    cycle_number: Mapped[int]
    previous_cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id"))
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime]
    started_by: Mapped[str] = mapped_column(String(100))
    ended_at: Mapped[datetime | None]
    # What the cycle has recorded so far (indicators, gaps, microprojects, evaluation):
    # kept beside the state so reads never deserialize the workflow.
    data: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(Text)
    # A random token replaced by every write of the row (engine/repository.py).
    revision: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    # The head of the cycle's own audit chain: its length and last hash (a new chain's are
    # 0 and GENESIS), kept on the row that every change of the cycle locks and writes.
    audit_length: Mapped[int] = mapped_column(server_default="0")
    audit_head: Mapped[str] = mapped_column(String(64), server_default=GENESIS)
    # The head's seal with the audit key (engine/audit/heads.py); None: written without one.
    audit_seal: Mapped[str | None] = mapped_column(String(64))
    definition: Mapped[ProcessDefinition] = relationship(lazy="joined", innerjoin=True)


class Task(Base):
    """Inbox index: one row per human task that ever became ready."""

    __tablename__ = "tasks"
    # Covering indexes, one per arm of the inbox (engine/services/inbox.py): its counts and
    # pages are answered from them alone. Each starts with the arm's equalities, then its
    # order (PostgreSQL reads an index in order only after equalities; IS NULL is none),
    # then what the arm and the filters test on the entries; cycle_id for the cycle and
    # process filters. A group held in some units only is an arm over its own index:
    # group, then the units it covers, then the order.
    __table_args__ = (
        Index(
            "ix_tasks_open_group",
            "state",
            "candidate_group",
            "created_at",
            "id",
            "claimed_by",
            "assignee",
            "due_at",
            "cycle_id",
            "unit_id",
        ),
        Index(
            "ix_tasks_open_group_unit",
            "state",
            "candidate_group",
            "unit_id",
            "created_at",
            "id",
            "claimed_by",
            "assignee",
            "due_at",
            "cycle_id",
        ),
        Index(
            "ix_tasks_open_assignee",
            "state",
            "assignee",
            "created_at",
            "id",
            "claimed_by",
            "due_at",
            "cycle_id",
            "unit_id",
        ),
        Index(
            "ix_tasks_open_claimed",
            "state",
            "claimed_by",
            "created_at",
            "id",
            "due_at",
            "cycle_id",
            "unit_id",
        ),
        # Results across cycles (engine/services/results.py): a running cycle's latest
        # completed task, and the tasks with a due date (microprojects) per unit.
        Index("ix_tasks_cycle_done", "cycle_id", "state", "ended_at"),
        Index(
            "ix_tasks_due",
            "unit_id",
            "state",
            "due_at",
            "ended_at",
            postgresql_where=text("due_at IS NOT NULL"),
            sqlite_where=text("due_at IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Looked up through ix_tasks_cycle_done, which begins with it.
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"))
    # The cycle's unit, copied here so that the inbox's arms stay within their indexes.
    unit_id: Mapped[int | None]
    element_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500))
    instructions: Mapped[str | None] = mapped_column(Text)
    candidate_group: Mapped[str | None] = mapped_column(String(100))
    assignee: Mapped[str | None] = mapped_column(String(100))
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(100))
    form_file: Mapped[str | None] = mapped_column(String(255))
    form_data: Mapped[dict[str, Any]]


# What deciding who may work or read a task (``actors.HeldTask``) reads of its row.
HELD_TASK_COLUMNS = (
    Task.title,
    Task.unit_id,
    Task.candidate_group,
    Task.assignee,
    Task.claimed_by,
    Task.completed_by,
)


class PendingTimer(Base):
    """A timer a cycle waits on, so the worker finds due cycles without loading any state."""

    __tablename__ = "pending_timers"

    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(255))
    due_at: Mapped[datetime] = mapped_column(index=True)


class AuditEvent(Base):
    """Append-only history of every change: who, when, what. The database refuses UPDATE,
    DELETE and TRUNCATE on this table; each event is hash-chained to the one before it in
    its chain (the cycle's own, or ``global``), in the form its ``hash_version`` names
    (engine/audit/chain.py)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        # The event browser's filters with the order it pages in (time, then seq), so a
        # page is read from one index whatever its depth (migration 0019).
        Index("ix_audit_events_cycle", "cycle_id", "seq"),
        Index("ix_audit_events_at", "at", "seq"),
        Index("ix_audit_events_actor", "actor", "at", "seq"),
        Index("ix_audit_events_type", "type", "at", "seq"),
        UniqueConstraint("chain", "position"),
    )

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(50))
    cycle_id: Mapped[int | None]
    task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str | None] = mapped_column(String(255))
    # JSON text as written, not JSONB: PostgreSQL's JSONB rewrites numbers (-0.0, 1e300),
    # and the event's hash covers the data exactly as it was recorded.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    chain: Mapped[str] = mapped_column(String(40))
    position: Mapped[int]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    hash_version: Mapped[int] = mapped_column(SmallInteger, server_default="1")


class AuditChain(Base):
    """The head of the global audit chain (events about no cycle): its length, last hash
    and seal, so deletions show. Each cycle's chain head is on its ``cycles`` row. The
    database lets a head move only forward onto its chain's last event."""

    __tablename__ = "audit_chains"

    chain: Mapped[str] = mapped_column(String(40), primary_key=True)
    length: Mapped[int]
    head_hash: Mapped[str] = mapped_column(String(64))
    seal: Mapped[str | None] = mapped_column(String(64))


class Comment(Base):
    """A remark someone left on a task: questions, hand-over notes, reasons. Never edited."""

    __tablename__ = "task_comments"
    __table_args__ = (Index("ix_task_comments_task", "task_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    author: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Evidence(Base):
    """A file attached to a task as evidence: a measurement sheet, a photo. Its content is
    kept under its SHA-256 (``engine/evidence_store.py``); the same content is attached
    to a task once."""

    __tablename__ = "evidence"
    __table_args__ = (
        UniqueConstraint("task_id", "sha256"),
        Index("ix_evidence_task", "task_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    attached_by: Mapped[str] = mapped_column(String(100))
    attached_at: Mapped[datetime]


class EvidenceContent(Base):
    """Evidence files kept in the database (``PICYCLE_EVIDENCE_STORAGE=database``)."""

    __tablename__ = "evidence_contents"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Incident(Base):
    """A step of a cycle's model that failed (a script over its budget, data JSON cannot
    hold): what was attempted, by whom, why it failed, and how it was resolved. Admins
    retry the attempt once the model is fixed or the cycle migrated, or dismiss it."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_open", "resolved_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str | None] = mapped_column(String(255))
    attempted_by: Mapped[str] = mapped_column(String(100))
    # The form data of a failed completion, to submit again on retry.
    data: Mapped[dict[str, Any] | None]
    message: Mapped[str] = mapped_column(Text)
    budget_limit: Mapped[str | None] = mapped_column(String(100))
    failures: Mapped[int]
    raised_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(Text)


class OutboxMessage(Base):
    """An e-mail to send, written in the transaction of the change it tells of, rendered
    in its recipient's language; ``picycle worker`` sends it (engine/services/mail.py).
    ``next_attempt_at`` is when a worker may take it next: a worker that takes it moves it
    on by a lease, so a worker that dies leaves it to the next one once the lease ends."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_due",
            "next_attempt_at",
            "id",
            postgresql_where=text("sent_at IS NULL AND failed_at IS NULL"),
            sqlite_where=text("sent_at IS NULL AND failed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(500))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # The same on every attempt, so a message sent twice is recognisable as one.
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class NotificationMark(Base):
    """The latest notice of a kind the workers wrote about one thing: for a task fallen
    overdue (``key``: the task's id) the due time it was overdue from, for a user's digest
    (``key``: the user's id) the moment of the day it was for. A worker writes a notice
    only while it moves ``moment`` on, so no notice is written twice."""

    __tablename__ = "notification_marks"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    moment: Mapped[datetime]


# The columns of the tables that every request reads (who is asking, who is told), for
# statements built on the tables rather than the mapped classes: the ORM's handling of a
# statement costs more than the database takes to answer one of these.
USERS = User.__table__.c
MEMBERSHIPS = Membership.__table__.c
UNIT_PATHS = UnitPath.__table__.c
DIRECTORY_VERSION = DirectoryVersion.__table__.c
