"""The relational model: accounts, projects, phases and work logs."""

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

ROLES = ("engineer", "manager", "admin")
PROJECT_STATUSES = ("active", "on_hold", "completed", "archived")
HOURS = Numeric(6, 2)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC; SQLite drops the offset, so values read back are marked UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError(f"naive datetime {value!r}; pass an aware datetime")
            value = value.astimezone(dt.UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (CheckConstraint(f"role IN {ROLES!r}", name="ck_users_role"),)


class Session(Base):
    """A browser session; the cookie carries the id, the table only its hash."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    client: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    description: Mapped[str] = mapped_column(Text, default="")
    planned_hours: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    phases: Mapped[list["Phase"]] = relationship(
        back_populates="project", order_by="(Phase.position, Phase.id)", lazy="selectin"
    )

    __table_args__ = (
        CheckConstraint(f"status IN {PROJECT_STATUSES!r}", name="ck_projects_status"),
    )


class Membership(Base):
    __tablename__ = "memberships"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class Phase(Base):
    __tablename__ = "phases"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    planned_hours: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    project: Mapped[Project] = relationship(back_populates="phases")

    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_phases_project_name"),)


class WorkLog(Base):
    __tablename__ = "work_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    phase_id: Mapped[int | None] = mapped_column(ForeignKey("phases.id", ondelete="RESTRICT"))
    work_date: Mapped[dt.date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(HOURS)
    description: Mapped[str] = mapped_column(String(1024), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    project: Mapped[Project] = relationship(lazy="raise")
    phase: Mapped["Phase | None"] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint("hours > 0 AND hours <= 24", name="ck_work_logs_hours"),
        Index("ix_work_logs_user_date", "user_id", "work_date"),
        Index("ix_work_logs_project_date", "project_id", "work_date"),
        Index("ix_work_logs_phase", "phase_id"),
    )


class IdempotencyKey(Base):
    """The first response to a request sent with an Idempotency-Key, kept for replays."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),)


class ProjectManager(Base):
    """A manager named on a project; a project that names any is approved by them alone."""

    __tablename__ = "project_managers"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )


class WeekSubmission(Base):
    """One person's week (Monday to Sunday), submitted for approval."""

    __tablename__ = "week_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    week_start: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str] = mapped_column(String(2000), default="")

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")

    __table_args__ = (
        UniqueConstraint("user_id", "week_start", name="uq_week_submissions_user_week"),
        CheckConstraint(
            "status IN ('submitted', 'approved', 'returned')", name="ck_week_submissions_status"
        ),
    )


class PeriodLock(Base):
    """The single row holding the lock date and the grace period after each week."""

    __tablename__ = "period_locks"

    id: Mapped[int] = mapped_column(primary_key=True)
    lock_date: Mapped[dt.date | None] = mapped_column(Date)
    grace_days: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AuditEvent(Base):
    """One change to a record: who, when, before and after, from which request.

    The application only ever inserts into this table.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    project_id: Mapped[int | None] = mapped_column(Integer)
    subject_user_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_events_entity", "entity", "entity_id"),
        Index("ix_audit_events_at", "at"),
    )


class ProblemReport(Base):
    """A user's report of something that failed, with what the browser saw."""

    __tablename__ = "problem_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    incident_id: Mapped[str | None] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(32), index=True)
    page: Mapped[str] = mapped_column(String(500), default="")
    comment: Mapped[str] = mapped_column(String(4000), default="")
    client_errors: Mapped[list] = mapped_column(JSON, default=list)
    request_id: Mapped[str | None] = mapped_column(String(64))
