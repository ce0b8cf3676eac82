"""The whole data model, typed SQLAlchemy 2 declarative classes.

Portable on purpose: only types and constructs that SQLite and PostgreSQL share, so the
same models and migrations serve the embedded default and the scale-out path.
Times are stored as timezone-aware UTC (``UtcDateTime``) because SQLite has no timezone
type and comparisons across processes must agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Store aware datetimes as UTC; give back aware UTC datetimes on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UtcDateTime, dict[str, Any]: JSON, list[str]: JSON}


# --- tenants and identity -------------------------------------------------------------


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sandbox: Mapped[bool] = mapped_column(Boolean, default=False)
    sandbox_daily_cap: Mapped[int] = mapped_column(Integer, default=100)
    sandbox_allowlist: Mapped[list[str]] = mapped_column(default=list)
    daily_cap: Mapped[int | None] = mapped_column(Integer, nullable=True)
    server_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("server_groups.id", ondelete="SET NULL"), nullable=True
    )
    # Where operator notifications (daily safelist summary) go for this account.
    notification_email: Mapped[str | None] = mapped_column(String(320), nullable=True)


class SendingDomain(Base):
    __tablename__ = "sending_domains"
    __table_args__ = (UniqueConstraint("account_id", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253))
    dkim_selector: Mapped[str] = mapped_column(String(63), default="mc1")
    dkim_private_key: Mapped[str | None] = mapped_column(Text, nullable=True)  # encrypted
    dkim_public_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    spf_verdict: Mapped[str] = mapped_column(String(16), default="unknown")
    spf_reason: Mapped[str] = mapped_column(Text, default="not checked yet")
    dkim_verdict: Mapped[str] = mapped_column(String(16), default="unknown")
    dkim_reason: Mapped[str] = mapped_column(Text, default="not checked yet")
    dmarc_verdict: Mapped[str] = mapped_column(String(16), default="unknown")
    dmarc_reason: Mapped[str] = mapped_column(Text, default="not checked yet")
    checked_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SenderIdentity(Base):
    __tablename__ = "sender_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    sender_name: Mapped[str] = mapped_column(String(200))
    from_address: Mapped[str] = mapped_column(String(320))
    reply_to: Mapped[str] = mapped_column(String(320))
    is_default: Mapped[bool] = mapped_column(Boolean, default=True)
    is_placeholder: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --- sending servers --------------------------------------------------------------------


class ServerGroup(Base):
    __tablename__ = "server_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class SendingServer(Base):
    __tablename__ = "sending_servers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(32))  # smtp, sendmail, ses, sendgrid, ...
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("server_groups.id", ondelete="SET NULL"), nullable=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Non-secret type-specific fields, as declared by the transport.
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Secret fields, Fernet-encrypted JSON (see store/secrets.py); never logged.
    secrets: Mapped[str | None] = mapped_column(Text, nullable=True)
    from_name: Mapped[str] = mapped_column(String(200), default="")
    from_local_part: Mapped[str] = mapped_column(String(64), default="")
    from_domain_id: Mapped[int | None] = mapped_column(
        ForeignKey("sending_domains.id", ondelete="SET NULL"), nullable=True
    )
    reply_to: Mapped[str] = mapped_column(String(320), default="")
    bounce_handler: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Streams this server carries (transactional, broadcast); empty = every stream.
    streams: Mapped[list[str]] = mapped_column(default=list)
    speed_mode: Mapped[str] = mapped_column(String(16), default="unlimited")  # unlimited|hour|day
    speed_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    concurrency: Mapped[int] = mapped_column(Integer, default=4)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="healthy")  # healthy|failing|paused
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    state_reason: Mapped[str] = mapped_column(Text, default="")
    next_probe_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    group: Mapped[ServerGroup | None] = relationship(lazy="joined")


# --- contacts ---------------------------------------------------------------------------


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("account_id", "address"),
        Index("ix_contacts_account_status_address", "account_id", "status", "address"),
        Index("ix_contacts_account_domain_address", "account_id", "domain", "address"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(320))  # local part as given, domain lower-cased
    domain: Mapped[str] = mapped_column(String(253))
    name: Mapped[str] = mapped_column(String(200), default="")
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(32), default="active")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    status_since: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status_before_block: Mapped[str | None] = mapped_column(String(32), nullable=True)
    soft_bounce_count: Mapped[int] = mapped_column(Integer, default=0)
    soft_bounce_window_start: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    safelisted: Mapped[bool] = mapped_column(Boolean, default=False)
    last_message_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    last_message_summary: Mapped[str] = mapped_column(Text, default="")
    # RFC 8058 one-click unsubscribe: no more broadcast mail; transactional mail still flows.
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ContactEvent(Base):
    __tablename__ = "contact_events"
    __table_args__ = (Index("ix_contact_events_contact_at", "contact_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    status_from: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status_to: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Feedback reported twice (DSN and webhook) must change the contact once.
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)


class SafelistRequest(Base):
    __tablename__ = "safelist_requests"
    __table_args__ = (Index("ix_safelist_requests_account_state", "account_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|approved|rejected
    auto: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class SafelistSummary(Base):
    """One row per account and day once the daily summary is sent: never twice."""

    __tablename__ = "safelist_summaries"
    __table_args__ = (UniqueConstraint("account_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    items: Mapped[int] = mapped_column(Integer, default=0)


# --- API keys ---------------------------------------------------------------------------


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[list[str]] = mapped_column(default=list)
    allowed_streams: Mapped[list[str]] = mapped_column(default=list)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)


class IdempotencyRecord(Base):
    """The first answer to an HTTP send with an Idempotency-Key, replayed on retries."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("account_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# --- messages ---------------------------------------------------------------------------


class MessageBody(Base):
    """Raw MIME, stored once and shared by every recipient's Message row."""

    __tablename__ = "message_bodies"

    id: Mapped[int] = mapped_column(primary_key=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_state_next", "state", "next_attempt_at"),
        Index("ix_messages_state_id", "state", "id"),
        Index("ix_messages_lease", "state", "lease_until"),
        Index("ix_messages_account_recipient", "account_id", "recipient"),
        # Due messages in claim order (delivery/claims.py): a partial index walked in order, so a
        # claim reads only the rows it takes however deep the queue (PostgreSQL cannot use
        # (state, next_attempt_at) in order under "state IN (...)"). Same literal predicate as
        # the claim's query, which is what lets the planners match it.
        Index("ix_messages_ready", "next_attempt_at", "id",
              postgresql_where=text("state IN ('queued', 'deferred')"),
              sqlite_where=text("state IN ('queued', 'deferred')")),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    stream: Mapped[str] = mapped_column(String(16), default="transactional")
    tracking: Mapped[bool] = mapped_column(Boolean, default=False)
    envelope_from: Mapped[str] = mapped_column(String(320))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_id: Mapped[int] = mapped_column(ForeignKey("message_bodies.id"))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    state_reason: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    server_id: Mapped[int | None] = mapped_column(
        ForeignKey("sending_servers.id", ondelete="SET NULL"), nullable=True
    )
    provider_message_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    last_code: Mapped[str] = mapped_column(String(32), default="")
    last_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"
    __table_args__ = (
        Index("ix_attempts_server_at", "server_id", "at"),
        Index("ix_attempts_message", "message_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    server_id: Mapped[int | None] = mapped_column(
        ForeignKey("sending_servers.id", ondelete="SET NULL"), nullable=True
    )
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # reserved (counted against the cap, in flight) | accepted | transient | permanent
    outcome: Mapped[str] = mapped_column(String(16))
    smtp_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    enhanced_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")


# --- feedback ---------------------------------------------------------------------------


class FeedbackEvent(Base):
    __tablename__ = "feedback_events"
    __table_args__ = (Index("ix_feedback_events_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(40))  # smtp, dsn, arf, ses, sendgrid, ...
    kind: Mapped[str] = mapped_column(String(20))  # bounce, delay, complaint, unknown
    recipient: Mapped[str] = mapped_column(String(320), default="")
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True
    )
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status_code: Mapped[str] = mapped_column(String(32), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(60), default="")
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)


class UnparsedMail(Base):
    """Bounce-mailbox items we could not parse: kept, counted, visible, never deleted."""

    __tablename__ = "unparsed_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes] = mapped_column(LargeBinary)


class WebhookReplay(Base):
    """Webhook nonces already acted on (a Mailgun signature token, …) until their signature
    would be refused as stale anyway. In the database, not in a process, so a request replayed
    to another engine or after a restart is refused too."""

    __tablename__ = "webhook_replays"
    __table_args__ = (
        UniqueConstraint("provider", "nonce", name="uq_webhook_replays_provider_nonce"),
        Index("ix_webhook_replays_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    nonce: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime] = mapped_column()


# --- operations -------------------------------------------------------------------------


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    os_user: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    # console | cli | api | system: the same person acting from two places reads apart.
    interface: Mapped[str] = mapped_column(String(20), default="", server_default="")
    action: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text, default="")


class EngineHeartbeat(Base):
    """Each engine process writes here so a console elsewhere can show live engines."""

    __tablename__ = "engine_heartbeats"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(100), unique=True)
    host: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(20), default="running")
