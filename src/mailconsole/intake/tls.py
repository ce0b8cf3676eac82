"""TLS for the relay and the HTTP API: the operator's certificate, or a self-signed pair made once with a warning.

Implicit TLS only (RFC 8314): the socket is TLS from the first byte, so credentials never
cross the wire in clear and there is no STARTTLS downgrade to strip.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import socket
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mailconsole.domain.errors import ConfigError
from mailconsole.settings import Settings

log = logging.getLogger(__name__)

SELF_SIGNED_CERT = "relay-selfsigned-cert.pem"
SELF_SIGNED_KEY = "relay-selfsigned-key.pem"


class TlsError(ConfigError, RuntimeError):
    """The configured certificate or key cannot be used; the message says which file and why."""


def generate_self_signed(cert_path: Path, key_path: Path, *, hostname: str | None = None) -> None:
    """Write an EC P-256 key (0600) and a self-signed certificate valid for ten years."""
    host = hostname or socket.gethostname() or "localhost"
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    san = x509.SubjectAlternativeName(
        [
            x509.DNSName(host),
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path.parent.mkdir(parents=True, exist_ok=True)
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem_key)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def cert_paths(settings: Settings) -> tuple[Path, Path, bool]:
    """(cert, key, self_signed): the configured pair, else the data dir's self-signed pair."""
    if settings.tls_cert or settings.tls_key:
        if not (settings.tls_cert and settings.tls_key):
            raise TlsError("set both tls_cert and tls_key, or neither (a self-signed pair is then used)")
        return Path(settings.tls_cert).expanduser(), Path(settings.tls_key).expanduser(), False
    return settings.data_dir / SELF_SIGNED_CERT, settings.data_dir / SELF_SIGNED_KEY, True


def server_context(settings: Settings) -> ssl.SSLContext:
    """A TLS 1.2+ server context from settings, generating the self-signed pair if needed."""
    cert, key, self_signed = cert_paths(settings)
    if self_signed:
        if not (cert.exists() and key.exists()):
            generate_self_signed(cert, key)
        log.warning(
            "relay: no tls_cert/tls_key configured; using the self-signed certificate %s "
            "(clients must trust it explicitly; configure a real certificate for production)",
            cert,
        )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(str(cert), str(key))
    except (OSError, ssl.SSLError) as exc:
        raise TlsError(f"cannot load TLS certificate {cert} / key {key}: {exc}") from None
    return ctx
