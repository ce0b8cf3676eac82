"""Sending domains: add one (with its DKIM key), the records to publish, and the checks.

The console and the CLI call these; the verdicts are stored on ``SendingDomain`` so the panes
show the last result and its time without a DNS round trip.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dns.asyncresolver
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mailconsole.domain.addresses import AddressError, normalize_domain, provider_kind
from mailconsole.domain.errors import InputError
from mailconsole.domain.roles import Actor, Permission
from mailconsole.senders import dkim
from mailconsole.senders.dns_checks import (
    PASS,
    Verdict,
    check_dkim,
    check_dmarc,
    check_spf,
    dmarc_starter,
)
from mailconsole.senders.resolver import make_resolver
from mailconsole.senders.servers import spf_requirements
from mailconsole.senders.spf import build_spf_record
from mailconsole.store import audit
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import SendingDomain

if TYPE_CHECKING:
    from mailconsole.runtime import Runtime

_SELECTOR = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
UNAUTHENTICATED_WARNING = (
    "{domain} is not authenticated ({detail}): deliverability may be severely impacted; publish the records below"
)


class DomainError(InputError, ValueError):
    """A domain request a person can fix; the message says how."""


@dataclass(frozen=True, slots=True)
class DnsRecord:
    purpose: str  # DKIM | SPF | DMARC
    name: str
    type: str
    value: str

    def as_dict(self) -> dict[str, str]:
        return {"purpose": self.purpose, "name": self.name, "type": self.type, "value": self.value}


@dataclass(frozen=True, slots=True)
class DomainView:
    id: int
    domain: str
    selector: str
    public_key: str | None
    spf: tuple[str, str]
    dkim: tuple[str, str]
    dmarc: tuple[str, str]
    checked_at: dt.datetime | None

    @property
    def authenticated(self) -> bool:
        """SPF and DKIM both pass: what receivers need to trust mail from this domain."""
        return self.spf[0] == PASS and self.dkim[0] == PASS

    @property
    def warning(self) -> str:
        if self.authenticated:
            return ""
        detail = f"SPF {self.spf[0]}, DKIM {self.dkim[0]}, DMARC {self.dmarc[0]}"
        if self.checked_at is None:
            detail = "not checked yet"
        return UNAUTHENTICATED_WARNING.format(domain=self.domain, detail=detail)

    def as_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "selector": self.selector,
            "authenticated": self.authenticated,
            "warning": self.warning,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
            "spf": {"status": self.spf[0], "reason": self.spf[1]},
            "dkim": {"status": self.dkim[0], "reason": self.dkim[1]},
            "dmarc": {"status": self.dmarc[0], "reason": self.dmarc[1]},
        }


def _view(row: SendingDomain) -> DomainView:
    return DomainView(
        id=row.id,
        domain=row.domain,
        selector=row.dkim_selector,
        public_key=row.dkim_public_key,
        spf=(row.spf_verdict, row.spf_reason),
        dkim=(row.dkim_verdict, row.dkim_reason),
        dmarc=(row.dmarc_verdict, row.dmarc_reason),
        checked_at=row.checked_at,
    )


async def _account(runtime: Runtime, account_id: int | None) -> int:
    return account_id if account_id is not None else await default_account_id(runtime)


def clean_domain(domain: str) -> str:
    """IDNA, lower-case; free-mail and disposable domains refused (we cannot sign for them)."""
    try:
        name = normalize_domain(domain)
    except AddressError as exc:
        raise DomainError(f"{domain.strip()!r} is not a valid domain name") from exc
    kind = provider_kind(name)
    if kind is not None:
        raise DomainError(f"{name} is a {kind} provider; add your own business domain")
    return name


def clean_selector(selector: str) -> str:
    value = selector.strip().lower()
    if not _SELECTOR.match(value):
        raise DomainError(f"DKIM selector {selector!r} must be letters, digits and hyphens (e.g. mc1, s2026)")
    return value


async def _row(session: AsyncSession, account_id: int, domain: str) -> SendingDomain:
    name = clean_domain(domain)
    row = (
        await session.execute(
            select(SendingDomain).where(SendingDomain.account_id == account_id, SendingDomain.domain == name)
        )
    ).scalar_one_or_none()
    if row is None:
        raise DomainError(f"{name} is not a sending domain yet; add it with `domains add {name}`")
    return row


async def add_domain(
    runtime: Runtime,
    domain: str,
    selector: str | None = None,
    *,
    actor: Actor,
    account_id: int | None = None,
) -> DomainView:
    """Add a sending domain with a fresh 2048-bit DKIM key (private half encrypted at rest).

    Needs ``Permission.CONFIG``; the audit row is written in the same transaction.
    """
    actor.require(Permission.CONFIG)
    name = clean_domain(domain)
    chosen = clean_selector(selector) if selector else f"mc{runtime.clock.now():%Y%m}"
    account = await _account(runtime, account_id)
    keys = await asyncio.to_thread(dkim.generate_key_pair)  # ~0.1 s of CPU: keep the UI live
    async with runtime.sessions.begin() as session:
        exists = (
            await session.execute(
                select(SendingDomain.id).where(SendingDomain.account_id == account, SendingDomain.domain == name)
            )
        ).scalar_one_or_none()
        if exists is not None:
            raise DomainError(f"{name} is already a sending domain")
        row = SendingDomain(
            account_id=account,
            domain=name,
            dkim_selector=chosen,
            dkim_private_key=runtime.secrets.encrypt_text(keys.private_pem),
            dkim_public_key=keys.public_b64,
            created_at=runtime.clock.now(),
        )
        session.add(row)
        await session.flush()
        audit.record(session, runtime.clock, actor, "domains.add", f"{name} selector={chosen}")
        view = _view(row)
    dkim.forget_cached_key(runtime, name)
    return view


async def list_domains(runtime: Runtime, *, account_id: int | None = None) -> list[DomainView]:
    account = await _account(runtime, account_id)
    async with runtime.sessions() as session:
        rows = (
            await session.execute(
                select(SendingDomain).where(SendingDomain.account_id == account).order_by(SendingDomain.domain)
            )
        ).scalars()
        return [_view(r) for r in rows]


async def get_domain(runtime: Runtime, domain: str, *, account_id: int | None = None) -> DomainView:
    account = await _account(runtime, account_id)
    async with runtime.sessions() as session:
        return _view(await _row(session, account, domain))


def dmarc_rua(domain: str) -> str:
    return f"dmarc-reports@{domain}"


async def dns_records(runtime: Runtime, domain: str, *, account_id: int | None = None) -> list[DnsRecord]:
    """The DKIM, SPF and DMARC records to publish for ``domain``."""
    account = await _account(runtime, account_id)
    async with runtime.sessions() as session:
        row = await _row(session, account, domain)
        requirements = await spf_requirements(session, account)
    records = []
    if row.dkim_public_key:
        records.append(
            DnsRecord(
                "DKIM",
                dkim.dkim_record_name(row.dkim_selector, row.domain),
                "TXT",
                dkim.dkim_record_value(row.dkim_public_key),
            )
        )
    records.append(DnsRecord("SPF", row.domain, "TXT", build_spf_record(requirements)))
    records.append(DnsRecord("DMARC", f"_dmarc.{row.domain}", "TXT", dmarc_starter(row.domain, dmarc_rua(row.domain))))
    return records


@dataclass(frozen=True, slots=True)
class DomainCheck:
    domain: DomainView
    verdicts: tuple[Verdict, Verdict, Verdict]  # spf, dkim, dmarc

    def as_dict(self) -> dict[str, Any]:
        data = self.domain.as_dict()
        for v in self.verdicts:
            data[v.check] = v.as_dict()
        return data


async def check_domain(
    runtime: Runtime,
    domain: str,
    selector: str | None = None,
    *,
    account_id: int | None = None,
    resolver: dns.asyncresolver.Resolver | None = None,
) -> DomainCheck:
    """Run SPF, DKIM and DMARC checks now and store the verdicts with the time checked."""
    account = await _account(runtime, account_id)
    async with runtime.sessions() as session:
        row = await _row(session, account, domain)
        requirements = await spf_requirements(session, account, runtime.settings.bounce_domain)
        name, public, stored_selector = row.domain, row.dkim_public_key, row.dkim_selector
    resolver = resolver or make_resolver(runtime.settings)
    now = runtime.clock.now()
    spf_v, dkim_v = await asyncio.gather(
        check_spf(resolver, name, requirements, now),
        check_dkim(resolver, name, clean_selector(selector) if selector else stored_selector, public, now),
    )
    dmarc_v = await check_dmarc(
        resolver, name, dmarc_rua(name), now, spf_status=spf_v.status, dkim_status=dkim_v.status
    )
    async with runtime.sessions.begin() as session:
        row = await _row(session, account, name)
        row.spf_verdict, row.spf_reason = spf_v.status, spf_v.reason
        row.dkim_verdict, row.dkim_reason = dkim_v.status, dkim_v.reason
        row.dmarc_verdict, row.dmarc_reason = dmarc_v.status, dmarc_v.reason
        row.checked_at = now
        await session.flush()
        view = _view(row)
    return DomainCheck(view, (spf_v, dkim_v, dmarc_v))
