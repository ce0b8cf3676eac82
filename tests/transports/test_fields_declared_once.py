"""Each ESP adapter is built from its ``FIELDS``: the declaration is the constructor."""

from __future__ import annotations

import httpx
import pytest

from mailconsole.transports.http_common import HttpTransportBase
from mailconsole.transports.registry import TRANSPORT_MODULES, transport_class

ESPS = sorted(t for t in TRANSPORT_MODULES if issubclass(transport_class(t), HttpTransportBase))


def _values(type_name: str) -> dict[str, str]:
    """A plausible value for every declared field (secrets recognisable for the redaction check)."""
    out = {}
    for spec in transport_class(type_name).FIELDS:
        if spec.secret:
            out[spec.name] = f"SECRET-{spec.name}-0123456789"
        elif spec.choices:
            out[spec.name] = spec.choices[0]
        elif spec.name == "base_url":
            out[spec.name] = "https://api.example.test"
        else:
            out[spec.name] = spec.default or "value.example.com"
    return out


def test_every_esp_is_an_http_transport_built_from_fields() -> None:
    assert ESPS == ["elasticemail", "mailgun", "postmark", "sendgrid", "ses"]


@pytest.mark.parametrize("type_name", ESPS)
async def test_an_esp_takes_exactly_its_declared_fields(type_name: str) -> None:
    cls = transport_class(type_name)
    mock = httpx.MockTransport(lambda request: httpx.Response(500))
    transport = cls(http_transport=mock, **_values(type_name))
    try:
        assert set(transport.config) == {s.name for s in cls.FIELDS}
        assert transport.base_url == "https://api.example.test"
        secrets = [v for k, v in _values(type_name).items() if k in {s.name for s in cls.FIELDS if s.secret}]
        assert secrets and transport.redact(" ".join(secrets)).count("SECRET-") == 0
    finally:
        await transport.close()
    with pytest.raises(TypeError, match=r"got unknown field\(s\) pasword; its fields are "):
        cls(http_transport=mock, pasword="x", **_values(type_name))
    required = next(s.name for s in cls.FIELDS if s.required)
    missing = {k: v for k, v in _values(type_name).items() if k != required}
    with pytest.raises(TypeError, match=f"missing required field '{required}'"):
        cls(http_transport=mock, **missing)
