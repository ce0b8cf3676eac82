"""One settings object for every part of mailconsole.

Precedence, lowest to highest: built-in defaults, the TOML config file (``--config``),
``MAILCONSOLE_*`` environment variables, explicit command-line flags. Operators script
against the environment variable names, so they are part of the public interface.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

from mailconsole.domain.errors import ConfigError


class SettingsError(ConfigError, ValueError):
    """A setting could not be read; the message names the setting and the bad value."""


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("mailconsole", appauthor=False))


@dataclass
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str = ""
    # SMTP relay (implicit TLS only)
    relay_host: str = "127.0.0.1"
    relay_port: int = 465
    tls_cert: str = ""
    tls_key: str = ""
    # Public base URL of the HTTP API (e.g. https://mail.example.com) used in List-Unsubscribe
    # links; empty means http://http_host:http_port
    public_url: str = ""
    # HTTP API
    http_host: str = "127.0.0.1"
    http_port: int = 8025
    # DNS: empty means the system resolvers; entries are host[:port]
    dns_nameservers: list[str] = field(default_factory=list)
    dns_timeout: float = 3.0
    # Identity
    placeholder_domain: str = "placeholder.mailconsole.invalid"
    notification_from: str = "notifications@mailconsole.local"
    notification_server: str = ""
    # Fallback recipient of operator notifications (daily safelist summary) when the account has none
    notification_to: str = ""
    # Contact rules
    safelist_auto_approve_days: int = 90
    soft_bounce_threshold: int = 3
    soft_bounce_window_hours: int = 72
    hard_fail_threshold: int = 1
    # Delivery
    max_message_age_hours: int = 72
    retry_base_seconds: float = 60.0
    retry_cap_seconds: float = 3600.0
    lease_seconds: float = 120.0
    engine_poll_seconds: float = 1.0  # how often an idle engine looks for due messages
    breaker_threshold: int = 5
    breaker_cooldown_seconds: float = 60.0
    # Feedback
    bounce_domain: str = ""
    # Bounce mailbox read on a schedule (empty host / path: not configured). Secrets: never logged.
    bounce_poll_seconds: float = 300.0
    bounce_imap_host: str = ""
    bounce_imap_port: int = 993
    bounce_imap_tls: str = "ssl"  # ssl | starttls | none
    bounce_imap_user: str = ""
    bounce_imap_password: str = field(default="", repr=False)
    bounce_imap_folder: str = "INBOX"
    bounce_imap_ca_file: str = ""
    bounce_processed_folder: str = "Processed"  # "" flags processed mail instead of moving it
    bounce_maildir: str = ""
    # ESP webhooks (secrets: never logged)
    # SNS topics /webhooks/ses accepts, besides each SES server's "feedback_topic_arn". Empty and
    # no server naming one: every topic is refused (anyone with an AWS account can sign SNS).
    ses_topic_arns: list[str] = field(default_factory=list)
    sendgrid_webhook_public_key: str = ""  # base64 DER (as SendGrid shows it) or PEM
    mailgun_webhook_signing_key: str = field(default="", repr=False)
    postmark_webhook_user: str = ""
    postmark_webhook_password: str = field(default="", repr=False)
    # Elastic Email does not sign its notifications: the secret is put in the notification URL
    # (/webhooks/elasticemail?secret=...) and compared in constant time.
    elasticemail_webhook_secret: str = field(default="", repr=False)
    webhook_max_age_seconds: int = 900
    # Roles: OS user (or ``key:<prefix>`` for an API key) -> viewer | support | admin. Anyone
    # without an entry gets ``default_role``; ``--role`` may only lower what this grants.
    roles: dict[str, str] = field(default_factory=dict)
    default_role: str = "viewer"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'mailconsole.db'}"

    def with_overrides(self, **overrides: Any) -> Settings:
        """Return a copy with the given non-None values applied (used for CLI flags)."""
        clean = {k: v for k, v in overrides.items() if v is not None}
        return dataclasses.replace(self, **clean)


_ENV_PREFIX = "MAILCONSOLE_"


def _coerce(name: str, raw: Any, target: Any) -> Any:
    """Turn a TOML or environment value into the field's type, naming the setting on failure."""
    try:
        if target is Path or target == "Path":
            return Path(str(raw)).expanduser()
        if target is int or target == "int":
            return int(raw)
        if target is float or target == "float":
            return float(raw)
        if target in ("dict[str, str]",) or target == dict[str, str]:
            if isinstance(raw, dict):
                return {str(k): str(v) for k, v in raw.items()}
            pairs = [part.strip() for part in str(raw).replace(";", ",").split(",") if part.strip()]
            if any("=" not in pair for pair in pairs):
                raise ValueError("expected name=value pairs separated by commas")
            return {k.strip(): v.strip() for k, _, v in (pair.partition("=") for pair in pairs)}
        if target in ("list[str]",) or target == list[str]:
            if isinstance(raw, list):
                return [str(x) for x in raw]
            return [part.strip() for part in str(raw).replace(";", ",").split(",") if part.strip()]
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {name}: cannot read {raw!r} ({exc})") from None


def load_settings(config_file: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Build Settings from defaults, an optional TOML file and the environment."""
    env = dict(os.environ) if env is None else env
    values: dict[str, Any] = {}
    types = {f.name: f.type for f in fields(Settings)}
    config_path = config_file or env.get(_ENV_PREFIX + "CONFIG")
    if config_path:
        path = Path(config_path).expanduser()
        try:
            data = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise SettingsError(f"config file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
        section = data.get("mailconsole", data)
        for key, raw in section.items():
            name = key.replace("-", "_")
            if name not in types:
                raise SettingsError(f"config file {path}: unknown setting {key!r}")
            values[name] = _coerce(name, raw, types[name])
    for name, typ in types.items():
        env_name = _ENV_PREFIX + name.upper()
        if env_name in env and env[env_name] != "":
            values[name] = _coerce(env_name, env[env_name], typ)
    return Settings(**values)
