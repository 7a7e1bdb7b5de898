"""Heliograph's settings: one module, read from the environment, embedded defaults for everything.

Every variable is listed in `VARIABLES`; an unknown `HELIOGRAPH_*` variable or a malformed value
stops the process at start-up with a message naming the variable.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import settings_sso
from settings_sso import ImApp as ImApp  # their home is settings_sso; imported from here too
from settings_sso import OidcConfig as OidcConfig

ROOT = Path(__file__).resolve().parent

# name -> one-line description (the README's configuration table is written from this)
VARIABLES: dict[str, str] = {
    "HELIOGRAPH_ENV": "`development` (default), `test` or `production`",
    "DATABASE_URL": "`sqlite:///path` or `postgres://user:pass@host:port/db`",
    "BROADCAST_URL": "`memory://` (one process) or `redis://host:port/db`",
    "SECRET_KEY": "signs sessions and links; generated into `var/secret_key` when unset",
    "BASE_URL": "public address used in mails, feeds and links (pages with custom domains use "
                "those)",
    "SMTP_URL": "`smtp://user:pass@host:port?starttls=true|tls=true|timeout=10`; unset: no mail",
    "MAIL_FROM": "sender address of every mail",
    "MAX_PUBLIC_PAGES": "limit on public pages per installation (default 5)",
    "MAX_INTERNAL_PAGES": "limit on internal pages per installation (default 20)",
    "DEFAULT_PAGE": "slug of the page served at `/` and `/api/v2/`; unset: first public page",
    "EMBEDDED_WORKER": "run the worker inside the web process (default: on unless production)",
    "AVAILABILITY_WARMUP": "build availability figures and daily bars in the background at "
                           "start-up and after each page's local midnight (default: on unless "
                           "`test`)",
    "ALLOWED_ORIGINS": "comma-separated origins allowed for websockets and cookie writes",
    "EMAIL_MONTHLY_QUOTA": "mails per page per UTC month (default 10000, 0 = unlimited)",
    "SUBSCRIBE_MAIL_BUDGET": "confirmation and manage-link mails per page per clock hour "
                             "(default 500, 0 = unlimited)",
    "GRAPHIQL": "serve GraphiQL and introspection (default: on unless production)",
    "GRAPHQL_MAX_RESPONSE_BYTES": "largest GraphQL answer over HTTP; larger ones become an "
                                  "error (default 10000000)",
    "VAR_DIR": "where the embedded database and generated secret live (default `./var`)",
    "LOG_LEVEL": "`debug`, `info` (default), `warning`, `error`",
    "METRICS_TOKEN": "when set, `/metrics` wants `Authorization: Bearer <token>`",
    "DELIVERY_LEASE_SECONDS": "how long a worker holds a claimed batch of deliveries without "
                              "renewing it; a dead worker's batch waits this long (default 10)",
    "OIDC_ISSUER": "OpenID Connect issuer URL (its `/.well-known/openid-configuration` is read); "
                   "unset: no single sign-on",
    "OIDC_CLIENT_ID": "the client id registered at the OpenID Connect provider",
    "OIDC_CLIENT_SECRET": "that client's secret",
    "OIDC_PROVIDER_NAME": "name on the sign-in button (default: the issuer's host)",
    "OIDC_SCOPES": "scopes asked for (default `openid email profile`)",
    "OIDC_ALLOWED_DOMAINS": "comma-separated email domains admitted (verified emails only)",
    "OIDC_GROUPS_CLAIM": "the ID token claim that lists a member's groups (e.g. `groups`)",
    "OIDC_ALLOWED_GROUPS": "comma-separated groups admitted whatever their email domain",
    "OIDC_ROLE_MAP": "`group=ROLE,…` with ROLE one of ADMIN, PAGE_MANAGEMENT, "
                     "EVENT_MANAGEMENT: the groups claim grants and withdraws these roles at "
                     "each sign-in",
    "SLACK_BOT_TOKEN": "a Slack app's bot token (`xoxb-…`): members get direct messages",
    "SLACK_API_URL": "Slack's Web API base (default `https://slack.com/api`)",
    "FEISHU_APP_ID": "a Feishu (Lark) app's id: members get direct messages (with the secret)",
    "FEISHU_APP_SECRET": "that app's secret",
    "FEISHU_API_URL": "Feishu's open API base (default `https://open.feishu.cn`)",
    "WECOM_CORP_ID": "a WeCom corp id: members get app messages (with secret and agent id)",
    "WECOM_APP_SECRET": "that WeCom app's secret",
    "WECOM_AGENT_ID": "that WeCom app's agent id (a number)",
    "WECOM_API_URL": "WeCom's API base (default `https://qyapi.weixin.qq.com`)",
    "LOCAL_PASSWORDS": "`on` (default), `admins` (only administrators sign in with a password) "
                       "or `off` (single sign-on only)",
}

ENVIRONMENTS = ("development", "test", "production")


class SettingsError(ValueError):
    """A variable is unknown or malformed; the message names it."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    use_tls: bool = False
    start_tls: bool | None = None
    timeout: float = 10.0


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str
    broadcast_url: str
    secret_key: str = field(repr=False)
    base_url: str
    smtp: SmtpConfig | None
    mail_from: str
    max_public_pages: int
    max_internal_pages: int
    default_page: str | None
    embedded_worker: bool
    allowed_origins: tuple[str, ...]
    email_monthly_quota: int
    subscribe_mail_budget: int
    graphiql: bool
    var_dir: Path
    log_level: str
    graphql_max_response_bytes: int = 10_000_000
    delivery_lease_seconds: int = 10
    metrics_token: str | None = field(default=None, repr=False)
    # Proxies whose X-Forwarded-* headers are believed (uvicorn's syntax: web/forwarded.py).
    forwarded_allow_ips: str = "127.0.0.1"
    oidc: OidcConfig | None = None
    local_passwords: str = "on"
    im_apps: tuple[ImApp, ...] = ()
    availability_warmup: bool = False

    def im_app(self, provider: str) -> ImApp | None:
        return next((a for a in self.im_apps if a.provider == provider), None)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def dialect(self) -> str:
        return "postgres" if self.database_url.startswith(("postgres", "asyncpg")) else "sqlite"


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _database_url(env: Mapping[str, str], var_dir: Path) -> str:
    raw = env.get("DATABASE_URL") or f"sqlite://{var_dir / 'heliograph.sqlite3'}"
    scheme = urlparse(raw).scheme
    if scheme == "sqlite":
        return raw
    if scheme in ("postgres", "postgresql", "asyncpg"):
        parsed = urlparse(raw)
        if not parsed.hostname or not parsed.path.strip("/"):
            raise SettingsError(f"DATABASE_URL needs a host and a database name, got {raw!r}")
        return "postgres" + raw[len(scheme) :]
    raise SettingsError(f"DATABASE_URL must start with sqlite:// or postgres://, got {raw!r}")


def _broadcast_url(env: Mapping[str, str]) -> str:
    raw = env.get("BROADCAST_URL") or "memory://"
    scheme = urlparse(raw).scheme
    if scheme not in ("memory", "redis", "rediss"):
        raise SettingsError(f"BROADCAST_URL must be memory:// or redis://host:port, got {raw!r}")
    return raw


def _smtp(env: Mapping[str, str]) -> SmtpConfig | None:
    raw = env.get("SMTP_URL")
    if not raw:
        return None
    parsed = urlparse(raw)
    if parsed.scheme not in ("smtp", "smtps") or not parsed.hostname:
        raise SettingsError(f"SMTP_URL must look like smtp://user:pass@host:port, got {raw!r}")
    options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    unknown = set(options) - {"tls", "starttls", "timeout"}
    if unknown:
        raise SettingsError(f"SMTP_URL has unknown options: {', '.join(sorted(unknown))}")
    sub = dict(options)
    try:
        port = parsed.port or (465 if parsed.scheme == "smtps" else 25)
        timeout = float(sub.get("timeout", "10"))
    except ValueError:
        raise SettingsError(f"SMTP_URL has a malformed port or timeout: {raw!r}") from None
    start_tls = _bool(sub, "starttls", False) if "starttls" in sub else None
    return SmtpConfig(
        host=parsed.hostname,
        port=port,
        username=unquote(parsed.username) if parsed.username else None,
        password=unquote(parsed.password) if parsed.password else None,
        use_tls=parsed.scheme == "smtps" or _bool(sub, "tls", False),
        start_tls=start_tls,
        timeout=timeout,
    )


def _secret_key(env: Mapping[str, str], production: bool, var_dir: Path) -> str:
    raw = env.get("SECRET_KEY")
    if raw:
        if len(raw) < 16:
            raise SettingsError("SECRET_KEY must be at least 16 characters long")
        return raw
    if production:
        raise SettingsError("SECRET_KEY must be set when HELIOGRAPH_ENV=production")
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _refuse_unknown(env: Mapping[str, str]) -> None:
    """A misspelt HELIOGRAPH_ variable is an error, not a silent default."""
    unknown = sorted(
        name for name in env if name.startswith("HELIOGRAPH_") and name not in VARIABLES
    )
    # Test-harness variables are read by tests/conftest.py, not by the application.
    unknown = [n for n in unknown if not n.startswith("HELIOGRAPH_TEST_")]
    if unknown:
        raise SettingsError(f"unknown setting {unknown[0]} (known: {', '.join(VARIABLES)})")


def _base_url(env: Mapping[str, str]) -> str:
    base_url = (env.get("BASE_URL") or "http://127.0.0.1:8000").rstrip("/")
    if urlparse(base_url).scheme not in ("http", "https"):
        raise SettingsError(f"BASE_URL must be an http(s) address, got {base_url!r}")
    return base_url


def _allowed_origins(env: Mapping[str, str]) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in env.get("ALLOWED_ORIGINS", "").split(",") if o)
    for origin in origins:
        if urlparse(origin).scheme not in ("http", "https"):
            raise SettingsError(f"ALLOWED_ORIGINS has a malformed origin {origin!r}")
    return origins


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; raise SettingsError naming the faulty variable."""
    env = os.environ if environ is None else environ
    _refuse_unknown(env)
    app_env = env.get("HELIOGRAPH_ENV", "development") or "development"
    if app_env not in ENVIRONMENTS:
        raise SettingsError(f"HELIOGRAPH_ENV must be one of {', '.join(ENVIRONMENTS)}")
    production = app_env == "production"
    var_dir = Path(env.get("VAR_DIR") or ROOT / "var")
    base_url = _base_url(env)
    mail_from = env.get("MAIL_FROM") or "Heliograph <status@localhost>"
    if "@" not in mail_from:
        raise SettingsError(f"MAIL_FROM must be an email address, got {mail_from!r}")
    origins = _allowed_origins(env)
    level = (env.get("LOG_LEVEL") or "info").lower()
    if level not in ("debug", "info", "warning", "error"):
        raise SettingsError(f"LOG_LEVEL must be debug, info, warning or error, got {level!r}")
    try:
        oidc = settings_sso.oidc_config(env, production)
        local_passwords = settings_sso.local_passwords(env, oidc)
        im_apps = settings_sso.im_apps(env, production)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    return Settings(
        env=app_env,
        database_url=_database_url(env, var_dir),
        broadcast_url=_broadcast_url(env),
        secret_key=_secret_key(env, production, var_dir),
        base_url=base_url,
        smtp=_smtp(env),
        mail_from=mail_from,
        max_public_pages=_int(env, "MAX_PUBLIC_PAGES", 5),
        max_internal_pages=_int(env, "MAX_INTERNAL_PAGES", 20),
        default_page=env.get("DEFAULT_PAGE") or None,
        embedded_worker=_bool(env, "EMBEDDED_WORKER", not production),
        allowed_origins=origins,
        email_monthly_quota=_int(env, "EMAIL_MONTHLY_QUOTA", 10000),
        subscribe_mail_budget=_int(env, "SUBSCRIBE_MAIL_BUDGET", 500),
        graphiql=_bool(env, "GRAPHIQL", not production),
        graphql_max_response_bytes=_int(env, "GRAPHQL_MAX_RESPONSE_BYTES", 10_000_000,
                                        minimum=1_000),
        var_dir=var_dir,
        log_level=level,
        delivery_lease_seconds=_int(env, "DELIVERY_LEASE_SECONDS", 10, minimum=1),
        metrics_token=env.get("METRICS_TOKEN") or None,
        forwarded_allow_ips=env.get("FORWARDED_ALLOW_IPS") or "127.0.0.1",
        oidc=oidc,
        local_passwords=local_passwords,
        im_apps=im_apps,
        availability_warmup=_bool(env, "AVAILABILITY_WARMUP", app_env != "test"),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return load_settings()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment between app instances)."""
    get_settings.cache_clear()
