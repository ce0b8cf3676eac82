"""Realistic, deterministic sample data for the screenshots and the console's snapshot tests.

Everything is written through the services (servers, queue, contacts, feedback, senders, keys)
with the runtime's clock, so a FixedClock gives the same pictures on every run; the only
direct writes are what a running engine would have recorded (message states and attempts over
the last hour) and the DNS verdicts a check would have stored, because neither may depend on
timing or on the network.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from mailconsole.contacts.safelist import request_safelist
from mailconsole.contacts.service import get_or_create_contact, record_delivery_outcome
from mailconsole.delivery import servers
from mailconsole.delivery.queue import enqueue
from mailconsole.domain.roles import Actor, Interface, Role
from mailconsole.feedback.model import FeedbackReport
from mailconsole.feedback.service import record_report
from mailconsole.intake.keys import create_key
from mailconsole.runtime import Runtime
from mailconsole.senders.domains import add_domain
from mailconsole.store.bootstrap import default_account_id
from mailconsole.store.models import ApiKey, DeliveryAttempt, Message, SendingDomain

# The sample data's author: audited as the system, named in logs as the admin.
SEEDER = Actor("admin", Role.ADMIN, Interface.SYSTEM)

# (address, what happened to it): one contact in every status, plus a few active ones
SHOWCASE_CONTACTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ada@example.org", ("delivered",)),
    ("annoyed@example.com", ("complaint",)),
    ("full-inbox@example.net", ("soft_bounce", "soft_bounce", "soft_bounce")),
    ("grace@example.org", ("delivered",)),
    ("linus@example.com", ("delivered",)),
    ("margaret@example.org", ("delivered",)),
    ("nobody@example.org", ("hard_bounce",)),
    ("typo@exmaple.com", ("hard_bounce",)),
)

SHOWCASE_STATES = ("sent", "sent", "sent", "deferred", "sent", "failed", "sent", "queued",
                   "sent", "held", "sent", "cancelled")

# (source, kind, recipient, status, diagnostic)
SHOWCASE_FEEDBACK: tuple[tuple[str, str, str, str, str], ...] = (
    ("dsn", "bounce", "reader004@example.org", "5.1.1", "550 5.1.1 <reader004@example.org> user unknown"),
    ("ses", "complaint", "reader011@example.org", "", ""),
    ("sendgrid", "delay", "reader017@example.org", "4.2.2", "452 4.2.2 mailbox full"),
    ("mailgun", "bounce", "reader023@example.org", "5.7.1", "550 5.7.1 sending IP listed by Spamhaus"),
    ("postmark", "bounce", "reader031@example.org", "5.1.1", "550 5.1.1 no such mailbox"),
    ("arf", "complaint", "reader042@example.org", "", ""),
)


# Screenshots must not change from run to run: the generated DKIM public key and API key
# prefix are replaced by these fixed values (a real public key; the showcase never signs).
SHOWCASE_DKIM_PUBLIC_KEY = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAp9qj+RW1fAe/xNC8HASM7gm9UdSt1KlK++ROUYz7fWZ7"
    "BtE39yBa377HRb04yYBBI13NdjE0JdKfipETWa5lP0nyYginPf2Ad8lvmTph+bIVwuO+8QOGbE78oa6VpdLBeLGH"
    "N6IgyXMiKZPnG92oC75G/TC6M5sgNOkVy6ZXDcweWaC774hy877RvO19P6oKakyfoiQDfAMVlJTHQ0/21Ge6Nzbm"
    "J8sjD8Vw0UChLyzlDZbF31sNapXaZbV9HzP61Ec/82zltAGQU7lf1coRAEVoTxtuqEMI2/V624+dxlsEN1g/2o+Y"
    "k4DBhSBp1MrQ/De7GhA+ojisb2uxowr8xwIDAQAB"
)
SHOWCASE_KEY_PREFIX = "Sh0wcase"

async def seed_showcase(runtime: Runtime) -> None:
    """Mail that has flowed, written straight through the services with the fixed clock.

    Servers (one paused, one failing) and their attempts over the last hour (so the rate
    sparklines have shape), messages in every state, contacts in every status, feedback
    events, one pending safelist review, two sending domains with verdicts and one API key.
    """
    account = await default_account_id(runtime)
    now = runtime.clock.now()
    relay = await servers.add_server(runtime, name="relay-eu-1", type="smtp", group="default",
                                     fields={"host": "smtp.eu.example.net", "port": "587"},
                                     speed_mode="hour", speed_limit=600, concurrency=4, actor=SEEDER)
    backup = await servers.add_server(runtime, name="relay-us-2", type="smtp", group="default",
                                      fields={"host": "smtp.us.example.net", "port": "587"}, actor=SEEDER)
    bulk = await servers.add_server(runtime, name="bulk-sendmail", type="sendmail", group="bulk",
                                    fields={}, speed_mode="day", speed_limit=5000, actor=SEEDER)
    await servers.pause_server(runtime, backup.id, actor=Actor("admin", Role.ADMIN, Interface.SYSTEM))
    for address, effects in SHOWCASE_CONTACTS:
        for n, effect in enumerate(effects):
            reply = {"hard_bounce": "550 5.1.1 user unknown", "soft_bounce": "452 4.2.2 mailbox full",
                     "complaint": "spam complaint (ARF)"}.get(effect, "250 2.0.0 ok")
            if effect == "delivered":
                async with runtime.sessions.begin() as session:
                    await get_or_create_contact(session, account, address, now)
            await record_delivery_outcome(runtime, account_id=account, recipient=address, effect=effect,
                                          reply_text=reply, message_id=None, actor="engine",
                                          dedup_key=f"showcase:{address}:{n}")
    await request_safelist(runtime, account_id=account, address="annoyed@example.com",
                           actor=Actor("support", Role.SUPPORT, Interface.SYSTEM))
    raw = (b"From: Acme News <news@acme.example>\r\nTo: reader@example.org\r\n"
           b"Subject: March newsletter\r\n\r\nHello.\r\n")
    recipients = [a for a, _ in SHOWCASE_CONTACTS] + [f"reader{i:03d}@example.org" for i in range(90)]
    ids = await enqueue(runtime, account_id=account, envelope_from="news@acme.example",
                        recipients=recipients, raw=raw, stream="broadcast")
    # What the engine would have done in the last hour: deterministic per message.
    async with runtime.sessions.begin() as session:
        for i, message_id in enumerate(ids):
            state = SHOWCASE_STATES[i % len(SHOWCASE_STATES)]
            server = (relay, bulk)[i % 5 == 4]
            at = now - dt.timedelta(minutes=(i * 37) % 58 + 1, seconds=i % 50)
            values: dict[str, object] = {"state": state}
            if state in ("sent", "deferred", "failed"):
                code, text, outcome = {
                    "sent": ("250 2.0.0", "OK: queued as 4F2A", "accepted"),
                    "deferred": ("451 4.7.1", "greylisted, try again in 5 minutes", "transient"),
                    "failed": ("550 5.1.1", "user unknown", "permanent"),
                }[state]
                values.update(server_id=server.id, attempts=1 + (state == "deferred"),
                              last_code=code, last_text=text, updated_at=at)
                if state == "deferred":
                    values["next_attempt_at"] = now + dt.timedelta(minutes=4 + i % 9)
                    session.add(DeliveryAttempt(message_id=message_id, server_id=server.id,
                                                at=at - dt.timedelta(minutes=15), outcome="transient",
                                                smtp_code=451, text=text))
                session.add(DeliveryAttempt(message_id=message_id, server_id=server.id, at=at,
                                            outcome=outcome, smtp_code=int(code[:3]), text=text))
            await session.execute(update(Message).where(Message.id == message_id).values(**values))
    for n, (source, kind, recipient, status, text) in enumerate(SHOWCASE_FEEDBACK):
        await record_report(runtime, FeedbackReport(source, kind, recipient, status, text,
                                                    event_key=f"showcase-{n}"))
    for name, verdicts in (("acme.example", ("pass", "pass", "pass")),
                           ("news.acme.example", ("pass", "fail", "missing"))):
        await add_domain(runtime, name, "mc1", actor=SEEDER)
        async with runtime.sessions.begin() as session:
            await session.execute(update(SendingDomain).where(SendingDomain.domain == name).values(
                spf_verdict=verdicts[0], spf_reason="include:_spf.acme.example found",
                dkim_verdict=verdicts[1], dkim_reason="mc1._domainkey TXT checked",
                dmarc_verdict=verdicts[2], dmarc_reason="_dmarc TXT checked", checked_at=now,
                dkim_public_key=SHOWCASE_DKIM_PUBLIC_KEY))
    key, _ = await create_key(runtime, account_id=account, name="website", actor=SEEDER)
    async with runtime.sessions.begin() as session:
        await session.execute(update(ApiKey).where(ApiKey.id == key.id).values(prefix=SHOWCASE_KEY_PREFIX))
