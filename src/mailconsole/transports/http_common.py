"""What every HTTP-API sending server shares: one response classifier, Retry-After parsing,
redaction of secrets, and a small base class owning the httpx client.

One classifier for all five providers keeps the engine's promises in one place:

* 2xx -> ACCEPTED with the provider's message id;
* 429 and 5xx (and 408) -> TRANSIENT, honouring ``Retry-After``; a 5xx also sets
  ``server_fault`` (the provider failed; nothing is known about the recipient);
* 401/403 (and a 404 on the sending endpoint: wrong domain / region) -> the **server** is
  misconfigured: TRANSIENT with ``server_fault=True`` so the message goes to another server
  and the contact is never blamed;
* another 4xx that names the recipient -> PERMANENT for this message, enhanced code ``5.1.1``
  so the feedback layer can tell a bad mailbox from a bad request;
* any other 4xx -> PERMANENT with the provider's own words;
* timeouts and connection errors -> TRANSIENT with ``server_fault=True``.

Providers add what they know (Postmark's ``ErrorCode``, SES's error type) through ``hint``.
Every text that leaves this module passes ``redact`` so an API key echoed back by a provider
never reaches the database, a log line or the console.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Literal

import httpx

from mailconsole.domain.results import ResultKind
from mailconsole.fields import FieldSpec, bind_fields
from mailconsole.transports.base import CheckResult, SendResult

Hint = Literal["recipient", "server", "transient", "permanent"]

MAX_TEXT = 500
REDACTED = "[redacted]"
DEFAULT_TIMEOUT = 30.0
RECIPIENT_ENHANCED_CODE = "5.1.1"
_RECIPIENT_WORDS = re.compile(
    r"recipient|invalid (e-?mail|address)|illegal (e-?mail|address)|not a valid (e-?mail|address)"
    r"|'to'|\bto parameter|personalizations\.\d+\.to",
    re.IGNORECASE,
)


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date (RFC 9110).

    A date in the past means "now" (0); garbage means no hint at all, so the engine's own
    backoff applies rather than a made-up number.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    current = now or dt.datetime.now(dt.UTC)
    return max((when - current).total_seconds(), 0.0)


def secret_variants(secrets: Iterable[str | None]) -> tuple[str, ...]:
    """Each secret plus the encodings it travels in (basic-auth base64), longest first."""
    out: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        out.add(secret)
        out.add(base64.b64encode(f"api:{secret}".encode()).decode())
        out.add(base64.b64encode(secret.encode()).decode())
    # Very short "secrets" would redact half the alphabet; the field validators keep them long.
    return tuple(sorted((s for s in out if len(s) >= 4), key=len, reverse=True))


def redact(text: str, secrets: Iterable[str | None], *, limit: int = MAX_TEXT) -> str:
    """Remove every secret (and its encodings) from ``text`` and cut it to ``limit`` characters."""
    cleaned = text
    for secret in secret_variants(secrets):
        cleaned = cleaned.replace(secret, REDACTED)
    cleaned = " ".join(cleaned.split())
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1] + "…"
    return cleaned


# Words a provider uses when the *sender* or the account's configuration is wrong. They win
# over recipient words: "Error parsing 'From': Illegal email address" (Postmark 300), "'from'
# parameter is not a valid address" (Mailgun 400) and SES's sandbox "Email address is not
# verified. The following identities failed the check…" (which names the recipient) are
# all things the operator must fix; no recipient is to blame.
_SENDER_WORDS = re.compile(
    r"'from'|\bfrom parameter|\bsender\b|not verified|identities failed the check|identity",
    re.IGNORECASE,
)


def names_sender_or_config(detail: str) -> bool:
    return bool(_SENDER_WORDS.search(detail))


def names_recipient(detail: str, recipients: Iterable[str]) -> bool:
    """Does an error text speak about the recipient (its address, or "invalid recipient")?"""
    lowered = detail.lower()
    if any(r and r.lower() in lowered for r in recipients):
        return True
    return bool(_RECIPIENT_WORDS.search(detail))


def response_detail(response: httpx.Response) -> str:
    """The provider's own error words: JSON ``message``/``Message``/``errors[].message`` or text."""
    try:
        payload: Any = response.json()
    except (ValueError, UnicodeDecodeError):
        return response.text.strip()
    return json_detail(payload) or response.text.strip()


def json_detail(payload: Any) -> str:
    if isinstance(payload, dict):
        parts: list[str] = []
        for key in ("message", "Message", "error", "Error", "detail"):
            value = payload.get(key)
            if isinstance(value, str) and value:
                parts.append(value)
        errors = payload.get("errors") or payload.get("Errors")
        if isinstance(errors, list):
            for item in errors:
                if isinstance(item, dict):
                    msg = str(item.get("message") or item.get("Message") or "")
                    fld = item.get("field")
                    parts.append(f"{msg} ({fld})" if fld else msg)
                elif isinstance(item, str):
                    parts.append(item)
        return "; ".join(p for p in parts if p)
    if isinstance(payload, str):
        return payload
    return ""


def classify_response(
    status: int,
    *,
    headers: Mapping[str, str] | None = None,
    detail: str = "",
    recipients: Iterable[str] = (),
    secrets: Iterable[str | None] = (),
    provider_message_id: str | None = None,
    hint: Hint | None = None,
    now: dt.datetime | None = None,
    label: str = "",
) -> SendResult:
    """Turn one HTTP answer into a ``SendResult`` the engine can branch on (see module doc)."""
    secrets = tuple(secrets)
    recipients = tuple(recipients)
    retry_after = parse_retry_after((headers or {}).get("retry-after"), now=now)
    prefix = f"{label} " if label else ""
    text = redact(f"{prefix}HTTP {status}: {detail}".rstrip(": ") if detail else f"{prefix}HTTP {status}", secrets)
    if 200 <= status < 300 and hint is None:
        return SendResult(
            ResultKind.ACCEPTED,
            text=redact(f"{prefix}accepted" + (f" id {provider_message_id}" if provider_message_id else ""), secrets),
            http_status=status,
            provider_message_id=provider_message_id,
        )
    if hint == "server" or (
        hint is None and (status in (401, 403, 404, 407) or (400 <= status < 500 and names_sender_or_config(detail)))
    ):
        return SendResult(
            ResultKind.TRANSIENT, text=text, http_status=status, retry_after=retry_after, server_fault=True
        )
    if hint == "transient" or (hint is None and (status in (408, 425, 429) or status >= 500)):
        # A 5xx is the provider failing, never the recipient: it counts against the server so
        # the engine retries at once elsewhere. A 429 is the server pacing us: wait, same server.
        return SendResult(
            ResultKind.TRANSIENT, text=text, http_status=status, retry_after=retry_after, server_fault=status >= 500
        )
    if hint == "recipient" or (hint is None and names_recipient(detail, recipients)):
        return SendResult(ResultKind.PERMANENT, text=text, http_status=status, enhanced_code=RECIPIENT_ENHANCED_CODE)
    if hint == "permanent" or 400 <= status < 500:
        return SendResult(ResultKind.PERMANENT, text=text, http_status=status)
    # 1xx/3xx: an API never answers a send with these unless a proxy is in the way.
    return SendResult(ResultKind.TRANSIENT, text=text, http_status=status, retry_after=retry_after, server_fault=True)


def classify_exception(exc: Exception, *, secrets: Iterable[str | None] = (), label: str = "") -> SendResult:
    """A request that got no HTTP answer says nothing about the recipient: retry elsewhere."""
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
    name = type(exc).__name__
    prefix = f"{label} " if label else ""
    text = redact(f"{prefix}request {kind}: {name}: {exc}", secrets)
    return SendResult(ResultKind.TRANSIENT, text=text, server_fault=True)


OkDetail = Callable[[Any], str | tuple[bool, str]]
CHECK_WHY = {
    401: "credentials rejected",
    403: "credentials lack permission",
    404: "not found (check domain, region or base URL)",
    429: "rate limited",
}


def accepted_message_id(response: httpx.Response, *fields: str) -> str | None:
    """The provider's message id from a 2xx JSON body: the first non-empty of ``fields``.

    None for an error status or a body that is not a JSON object: the id is informative,
    and a send the provider accepted must not turn into a failure over it.
    """
    if not 200 <= response.status_code < 300:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    for name in fields:
        value = str(body.get(name) or "")
        if value:
            return value
    return None


def check_from_response(
    response: httpx.Response,
    *,
    secrets: Iterable[str | None],
    label: str,
    ok_detail: OkDetail,
    advice: Mapping[int, str] | None = None,
) -> CheckResult:
    """ "Test connection": a 2xx proves the credentials (``ok_detail`` may still refuse, e.g. a key
    without the send scope); anything else is shown in plain words plus the provider's own."""
    secrets = tuple(secrets)
    if 200 <= response.status_code < 300:
        try:
            payload: Any = response.json()
        except (ValueError, UnicodeDecodeError):
            payload = None
        verdict = ok_detail(payload)
        ok, text = verdict if isinstance(verdict, tuple) else (True, verdict)
        return CheckResult(ok, redact(f"{label}: {text}", secrets))
    status = response.status_code
    why = CHECK_WHY.get(status, "unexpected answer")
    text = f"{label}: {why} (HTTP {status}) {response_detail(response)}".strip()
    if advice and status in advice:
        text = f"{text} ({advice[status]})"
    return CheckResult(False, redact(text, secrets))


class HttpTransportBase:
    """Owns one ``httpx.AsyncClient`` per configured server and the shared error handling.

    Built from the subclass's ``FIELDS`` (declared once): the constructor takes exactly those
    fields as keywords (``fields.bind_fields``), the secrets to redact are the fields declared
    secret, and ``base_url`` falls back to ``default_base_url``. A subclass reads its values
    in ``configure`` instead of repeating them as ``__init__`` keywords.

    ``http_transport`` is the test seam (``httpx.MockTransport``); production uses the default
    pooled transport. Subclasses set ``TYPE``/``LABEL``/``FIELDS`` and implement ``send``/``check``.
    """

    TYPE: ClassVar[str] = ""
    LABEL: ClassVar[str] = ""
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = ()
    DEFAULT_BASE_URL: ClassVar[str] = ""

    def __init__(
        self,
        *,
        http_transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        concurrency: int | None = None,
        **values: Any,
    ) -> None:
        self.config = bind_fields(type(self).FIELDS, values, owner=type(self).__name__)
        self.base_url = str(self.config.get("base_url") or self.default_base_url()).rstrip("/")
        self._secrets = tuple(str(self.config[s.name]) for s in type(self).FIELDS if s.secret and self.config[s.name])
        # The engine passes the server's concurrency cap; the pool never opens more connections.
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._client = httpx.AsyncClient(
            transport=http_transport,
            limits=limits if concurrency else httpx.Limits(),
            timeout=httpx.Timeout(timeout),
            headers={"Accept": "application/json", "User-Agent": "mailconsole"},
            follow_redirects=False,
        )

        self.configure(self.config)

    def default_base_url(self) -> str:
        """The API's URL when the ``base_url`` field is empty (a region may decide it)."""
        return type(self).DEFAULT_BASE_URL

    def configure(self, config: Mapping[str, Any]) -> None:
        """Read this type's field values (``config`` holds every declared field)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={self.base_url!r}>"

    __str__ = __repr__

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    async def request(self, request: httpx.Request) -> httpx.Response | SendResult:
        """Send one request; an exception becomes a redacted transient ``SendResult``."""
        try:
            response = await self._client.send(request)
            await response.aread()
        except httpx.HTTPError as exc:
            return classify_exception(exc, secrets=self._secrets, label=self.LABEL)
        return response

    async def check_get(
        self, request: httpx.Request, ok_detail: OkDetail, *, advice: Mapping[int, str] | None = None
    ) -> CheckResult:
        outcome = await self.request(request)
        if isinstance(outcome, SendResult):
            return CheckResult(False, outcome.text)
        return check_from_response(outcome, secrets=self._secrets, label=self.LABEL, ok_detail=ok_detail, advice=advice)

    def classify(
        self,
        response: httpx.Response,
        *,
        recipients: Iterable[str],
        provider_message_id: str | None = None,
        hint: Hint | None = None,
        detail: str | None = None,
    ) -> SendResult:
        return classify_response(
            response.status_code,
            headers=response.headers,
            detail=response_detail(response) if detail is None else detail,
            recipients=recipients,
            secrets=self._secrets,
            provider_message_id=provider_message_id,
            hint=hint,
            label=self.LABEL,
        )

    async def close(self) -> None:
        await self._client.aclose()


def dumps(payload: Any) -> bytes:
    """Compact UTF-8 JSON (non-ASCII kept as is: every provider documents UTF-8 JSON bodies)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def url_validator(value: Any) -> str | None:
    text = str(value)
    if not (text.startswith("https://") or text.startswith("http://")):
        return f"must start with https:// (or http:// for a local proxy), got {text!r}"
    return None


def secret_validator(value: Any) -> str | None:
    # Never echo the value: it is a credential.
    return "must be at least 8 characters long" if len(str(value).strip()) < 8 else None
