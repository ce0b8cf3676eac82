"""Sending servers: add, edit, pause, resume, test, and the live figures the console shows.

Validation derives from the transport's field declaration (``FIELDS`` + ``parse_fields``), so
the console form, ``servers add --set`` and this API refuse the same things in the same words.
Secret fields are encrypted with ``runtime.secrets`` before they reach the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, case, cast, func, literal, select

from mailconsole.domain.errors import InputError, NotFound
from mailconsole.domain.policy import STREAMS
from mailconsole.domain.ratelimit import speed_of
from mailconsole.domain.roles import Actor, Permission
from mailconsole.fields import parse_fields
from mailconsole.runtime import Runtime
from mailconsole.store import audit
from mailconsole.store.models import DeliveryAttempt, SendingServer, ServerGroup
from mailconsole.transports.base import CheckResult
from mailconsole.transports.registry import (
    TRANSPORT_MODULES,
    UnknownTransportType,
    load_transport,
    transport_class,
)

SPEED_MODES = ("unlimited", "hour", "day")
MAX_CONCURRENCY = 100


class ServerConfigError(InputError, ValueError):
    """Server settings that cannot be stored; ``errors`` maps each field to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{name}: {message}" for name, message in self.errors.items()))


class ServerNotFound(NotFound, LookupError):
    pass


@dataclass(frozen=True)
class ServerStats:
    id: int
    name: str
    type: str
    group: str
    state: str
    state_reason: str
    active: bool
    # Attempts counted against the cap (every recorded attempt) in the last hour / day.
    sent_hour: int
    sent_day: int
    cap_label: str
    # Accepted sends per minute over the last hour, oldest minute first (60 values).
    rate_per_minute: list[int]
    recent_failures: list[str]
    concurrency: int = 4
    speed_mode: str = "unlimited"
    speed_limit: int | None = None
    warnings: list[str] = field(default_factory=list)
    streams: list[str] = field(default_factory=list)  # empty: every stream


@dataclass(frozen=True)
class ServerConfigView:
    """A server's stored configuration as Config > Servers lists and edits it (secrets left out)."""

    id: int
    name: str
    type: str
    group: str
    state: str
    active: bool
    from_name: str
    from_local_part: str
    from_domain_id: int | None
    reply_to: str
    speed_mode: str
    speed_limit: int | None
    concurrency: int
    streams: list[str]
    settings: dict[str, Any]
    bounce_handler: dict[str, Any]

    @property
    def speed_label(self) -> str:
        """``unlimited``, ``N/hour`` or ``N/day``: the domain's one wording of a speed limit."""
        return speed_of(self.speed_mode, self.speed_limit).label

    @classmethod
    def of(cls, s: SendingServer, group: str) -> ServerConfigView:
        return cls(s.id, s.name, s.type, group, s.state, s.active, s.from_name, s.from_local_part,
                   s.from_domain_id, s.reply_to, s.speed_mode, s.speed_limit, s.concurrency,
                   list(s.streams or []), dict(s.settings or {}), dict(s.bounce_handler or {}))


async def list_server_configs(runtime: Runtime, *, limit: int = 500) -> list[ServerConfigView]:
    """Every server's configuration by name (the Config > Servers list)."""
    async with runtime.reads() as session:
        rows = (await session.execute(
            select(SendingServer, ServerGroup.name)
            .outerjoin(ServerGroup, ServerGroup.id == SendingServer.group_id)
            .order_by(SendingServer.name).limit(limit))).all()
    return [ServerConfigView.of(s, group or "default") for s, group in rows]


def _validate_common(
    errors: dict[str, str], *, name: str | None, speed_mode: str | None, speed_limit: int | None,
    concurrency: int | None,
) -> None:
    if name is not None and not name.strip():
        errors["name"] = "a server name is required"
    if speed_mode is not None:
        if speed_mode not in SPEED_MODES:
            errors["speed"] = f"speed mode must be one of {', '.join(SPEED_MODES)}, got {speed_mode!r}"
        elif speed_mode != "unlimited" and (speed_limit is None or int(speed_limit) < 1):
            errors["speed"] = f"a speed of N per {speed_mode} needs N >= 1, got {speed_limit!r}"
    if concurrency is not None and not 1 <= int(concurrency) <= MAX_CONCURRENCY:
        errors["concurrency"] = f"concurrency must be between 1 and {MAX_CONCURRENCY}, got {concurrency}"


def _streams(errors: dict[str, str], streams: Sequence[str] | None) -> list[str]:
    """The streams a server carries, validated and de-duplicated; empty means every stream."""
    chosen: list[str] = []
    for stream in streams or ():
        value = str(stream).strip().lower()
        if value not in STREAMS:
            errors["streams"] = f"stream must be one of {', '.join(STREAMS)}, got {stream!r}"
        elif value not in chosen:
            chosen.append(value)
    return chosen


async def _group_id(session: Any, name: str) -> int:
    """The id of a server group by name, created on first use (groups are just labels)."""
    group = (await session.execute(select(ServerGroup).where(ServerGroup.name == name))).scalar_one_or_none()
    if group is None:
        group = ServerGroup(name=name)
        session.add(group)
        await session.flush()
    return int(group.id)


async def add_server(
    runtime: Runtime,
    *,
    name: str,
    type: str,
    group: str = "default",
    fields: Mapping[str, Any],
    from_name: str = "",
    from_local_part: str = "",
    from_domain_id: int | None = None,
    reply_to: str = "",
    speed_mode: str = "unlimited",
    speed_limit: int | None = None,
    concurrency: int = 4,
    active: bool = True,
    bounce_handler: dict[str, Any] | None = None,
    streams: Sequence[str] | None = None,
    actor: Actor,
) -> SendingServer:
    """Validate every field at once and store the server, or raise ServerConfigError.

    Needs ``Permission.CONFIG``; audited in the same transaction.
    """
    actor.require(Permission.CONFIG)
    errors: dict[str, str] = {}
    _validate_common(errors, name=name, speed_mode=speed_mode, speed_limit=speed_limit, concurrency=concurrency)
    chosen_streams = _streams(errors, streams)
    try:
        specs = transport_class(type).FIELDS
    except UnknownTransportType as exc:
        errors["type"] = str(exc)
        raise ServerConfigError(errors) from None
    parsed = parse_fields(specs, dict(fields))
    errors.update(parsed.errors)
    async with runtime.sessions.begin() as session:
        if name.strip():
            clash = (await session.execute(select(SendingServer.id).where(SendingServer.name == name.strip()))).first()
            if clash is not None:
                errors["name"] = f"a server named {name.strip()!r} already exists"
        if errors:
            raise ServerConfigError(errors)
        server = SendingServer(
            name=name.strip(),
            type=type,
            group_id=await _group_id(session, group or "default"),
            active=active,
            settings=parsed.settings,
            secrets=runtime.secrets.encrypt_json(parsed.secrets) if parsed.secrets else None,
            from_name=from_name,
            from_local_part=from_local_part,
            from_domain_id=from_domain_id,
            reply_to=reply_to,
            bounce_handler=bounce_handler or {},
            streams=chosen_streams,
            speed_mode=speed_mode,
            speed_limit=int(speed_limit) if speed_mode != "unlimited" and speed_limit else None,
            concurrency=int(concurrency),
            state="healthy",
            created_at=runtime.clock.now(),
        )
        session.add(server)
        await session.flush()
        audit.record(session, runtime.clock, actor, "servers.add", f"{server.name} ({type})")
    return server


_EDITABLE = {
    "name", "group", "fields", "from_name", "from_local_part", "from_domain_id", "reply_to",
    "speed_mode", "speed_limit", "concurrency", "active", "bounce_handler", "priority", "streams",
}


_PLAIN_KEYS = ("from_name", "from_local_part", "from_domain_id", "reply_to", "active", "bounce_handler", "priority")


async def edit_server(runtime: Runtime, server_id: int, *, actor: Actor, **changes: Any) -> SendingServer:
    """Change a server; ``fields`` are merged with the stored ones (a blank secret keeps its value).

    Needs ``Permission.CONFIG``; audited in the same transaction.
    """
    actor.require(Permission.CONFIG)
    errors: dict[str, str] = {key: "not an editable server setting" for key in changes if key not in _EDITABLE}
    async with runtime.sessions.begin() as session:
        server = await session.get(SendingServer, server_id)
        if server is None:
            raise ServerNotFound(f"no sending server with id {server_id}")
        speed_mode = changes.get("speed_mode", server.speed_mode)
        speed_limit = changes.get("speed_limit", server.speed_limit)
        _validate_common(
            errors, name=changes.get("name"), speed_mode=speed_mode, speed_limit=speed_limit,
            concurrency=changes.get("concurrency"),
        )
        chosen_streams = _streams(errors, changes.get("streams"))
        if "name" in changes and changes["name"].strip() != server.name:
            clash = (
                await session.execute(select(SendingServer.id).where(SendingServer.name == changes["name"].strip()))
            ).first()
            if clash is not None:
                errors["name"] = f"a server named {changes['name'].strip()!r} already exists"
        parsed = None
        if "fields" in changes:
            specs = transport_class(server.type).FIELDS
            existing_secrets = runtime.secrets.decrypt_json(server.secrets)
            raw: dict[str, Any] = {k: v for k, v in (server.settings or {}).items() if v is not None}
            raw.update(dict(changes["fields"]))
            parsed = parse_fields(specs, raw, existing_secrets=existing_secrets)
            errors.update(parsed.errors)
        if errors:
            raise ServerConfigError(errors)
        if parsed is not None:
            server.settings = parsed.settings
            server.secrets = runtime.secrets.encrypt_json(parsed.secrets) if parsed.secrets else None
        if "name" in changes:
            server.name = changes["name"].strip()
        if "group" in changes:
            server.group_id = await _group_id(session, changes["group"] or "default")
        for key in _PLAIN_KEYS:
            if key in changes:
                setattr(server, key, changes[key])
        if "concurrency" in changes:
            server.concurrency = int(changes["concurrency"])
        if "streams" in changes:
            server.streams = chosen_streams
        server.speed_mode = speed_mode
        server.speed_limit = int(speed_limit) if speed_mode != "unlimited" and speed_limit else None
        audit.record(session, runtime.clock, actor, "servers.edit", f"{server.name}: {', '.join(sorted(changes))}")
        await session.flush()
    return server


async def get_server(runtime: Runtime, server_id: int) -> SendingServer:
    async with runtime.reads() as session:
        server = await session.get(SendingServer, server_id)
    if server is None:
        raise ServerNotFound(f"no sending server with id {server_id}")
    return server


async def find_server(runtime: Runtime, name_or_id: str) -> SendingServer:
    """A server by name, or by id when given digits (the CLI accepts both)."""
    async with runtime.reads() as session:
        by_name = select(SendingServer).where(SendingServer.name == name_or_id)
        server = (await session.execute(by_name)).scalar_one_or_none()
        if server is None and name_or_id.isdigit():
            server = await session.get(SendingServer, int(name_or_id))
    if server is None:
        raise ServerNotFound(f"no sending server named {name_or_id!r}")
    return server


async def _set_state(runtime: Runtime, server_id: int, state: str, reason: str, actor: Actor, action: str) -> None:
    actor.require(Permission.QUEUE_ACTION)
    async with runtime.sessions.begin() as session:
        server = await session.get(SendingServer, server_id)
        if server is None:
            raise ServerNotFound(f"no sending server with id {server_id}")
        server.state = state
        server.state_reason = reason
        server.consecutive_failures = 0
        server.next_probe_at = None
        audit.record(session, runtime.clock, actor, action, server.name)


async def pause_server(runtime: Runtime, server_id: int, *, actor: Actor) -> None:
    """Stop sending through a server (in-flight sends finish); its traffic goes to the group."""
    await _set_state(runtime, server_id, "paused", f"paused by {actor.label}", actor, "servers.pause")


async def resume_server(runtime: Runtime, server_id: int, *, actor: Actor) -> None:
    """Put a paused (or failing) server back into service, with a clean failure count."""
    await _set_state(runtime, server_id, "healthy", f"resumed by {actor.label}", actor, "servers.resume")


async def test_server(runtime: Runtime, server_id: int, *, actor: Actor) -> CheckResult:
    """"Test connection": the transport's own check (connect, TLS, login; no message sent).

    Anyone who may view may test; the test is audited (it reaches out to the provider).
    """
    actor.require(Permission.VIEW)
    server = await get_server(runtime, server_id)
    async with runtime.sessions.begin() as session:
        audit.record(session, runtime.clock, actor, "servers.test", f"server {server.name}")
    try:
        transport = load_transport(runtime, server)
    except Exception as exc:  # bad stored config must show as a failed test, not a crash
        return CheckResult(False, f"cannot load the server's settings: {exc}")
    try:
        return await transport.check()
    except Exception as exc:
        return CheckResult(False, f"{type(exc).__name__}: {exc}")
    finally:
        await transport.close()


def server_warnings(server: SendingServer) -> list[str]:
    warnings = []
    if (server.settings or {}).get("verify_certificates") is False:
        warnings.append("certificate verification is off: the connection can be intercepted")
    return warnings


async def list_server_stats(runtime: Runtime) -> list[ServerStats]:
    """One row per server with its counters, built from a handful of aggregate queries."""
    now = runtime.clock.now()
    hour_ago = now - dt.timedelta(hours=1)
    day_ago = now - dt.timedelta(days=1)
    async with runtime.reads() as session:
        servers = (
            await session.execute(
                select(SendingServer, ServerGroup.name)
                .outerjoin(ServerGroup, ServerGroup.id == SendingServer.group_id)
                .order_by(ServerGroup.name, SendingServer.priority, SendingServer.name)
            )
        ).all()
        counts: dict[int, tuple[int, int]] = {}
        for server_id, day, hour in (
            await session.execute(
                select(
                    DeliveryAttempt.server_id,
                    func.count(),
                    func.sum(case((DeliveryAttempt.at > hour_ago, 1), else_=0)),
                )
                .where(DeliveryAttempt.at > day_ago)
                .group_by(DeliveryAttempt.server_id)
            )
        ).all():
            if server_id is not None:
                counts[int(server_id)] = (int(day or 0), int(hour or 0))
        rates: dict[int, list[int]] = {}
        minute = _minutes_ago(runtime, now)
        for server_id, bucket, count in (
            await session.execute(
                select(DeliveryAttempt.server_id, minute, func.count())
                .where(DeliveryAttempt.at > hour_ago, DeliveryAttempt.outcome == "accepted")
                .group_by(DeliveryAttempt.server_id, minute)
            )
        ).all():
            if server_id is None:
                continue
            series = rates.setdefault(int(server_id), [0] * 60)
            index = 59 - min(59, max(0, int(bucket)))
            series[index] += int(count)
        out = []
        for server, group_name in servers:
            failures = (
                await session.execute(
                    select(DeliveryAttempt.at, DeliveryAttempt.smtp_code, DeliveryAttempt.text)
                    .where(
                        DeliveryAttempt.server_id == server.id,
                        DeliveryAttempt.outcome.in_(("transient", "permanent")),
                    )
                    .order_by(DeliveryAttempt.id.desc())
                    .limit(5)
                )
            ).all()
            day, hour = counts.get(server.id, (0, 0))
            out.append(
                ServerStats(
                    id=server.id,
                    name=server.name,
                    type=server.type,
                    group=group_name or "",
                    state=server.state if server.active else "inactive",
                    state_reason=server.state_reason,
                    active=server.active,
                    sent_hour=hour,
                    sent_day=day,
                    cap_label=speed_of(server.speed_mode, server.speed_limit).label,
                    rate_per_minute=rates.get(server.id, [0] * 60),
                    recent_failures=[
                        " ".join(str(p) for p in (f"{at:%H:%M}", code, text) if p)[:200]
                        for at, code, text in failures
                    ],
                    concurrency=server.concurrency,
                    speed_mode=server.speed_mode,
                    speed_limit=server.speed_limit,
                    warnings=server_warnings(server),
                    streams=list(server.streams or []),
                )
            )
    return out


def _minutes_ago(runtime: Runtime, now: dt.datetime) -> Any:
    """SQL for whole minutes between an attempt and now (dialect-specific date arithmetic)."""
    if runtime.backend == "sqlite":
        naive = now.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
        return cast((func.julianday(literal(naive)) - func.julianday(DeliveryAttempt.at)) * 1440, Integer)
    return func.floor(func.extract("epoch", literal(now) - DeliveryAttempt.at) / 60)


__all__ = [
    "TRANSPORT_MODULES", "ServerConfigError", "ServerNotFound", "ServerStats", "add_server", "edit_server",
    "find_server", "get_server", "list_server_stats", "load_transport", "pause_server", "resume_server",
    "test_server",
]
