"""Settings for single sign-on (OIDC_*, LOCAL_PASSWORDS) and the IM apps behind direct messages
(SLACK_BOT_TOKEN, FEISHU_APP_*, WECOM_*): their types and parsing. `settings.load_settings`
calls `oidc_config`, `local_passwords` and `im_apps`; a malformed value raises ValueError naming
the variable (settings turns it into SettingsError)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlparse


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    provider_name: str
    scopes: str = "openid email profile"
    allowed_domains: tuple[str, ...] = ()
    groups_claim: str | None = None
    allowed_groups: tuple[str, ...] = ()
    role_map: tuple[tuple[str, str], ...] = ()  # (group, ADMIN | a models.enums.Role value)


@dataclass(frozen=True)
class ImApp:
    """An IM app an administrator set up once, through which members get direct messages."""

    provider: str  # a models.enums.ImProvider value
    credentials: tuple[str, ...] = field(repr=False)
    api_url: str = ""


# provider -> (its credential variables, all or none; its API base variable, default base)
IM_APPS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "SLACK": (("SLACK_BOT_TOKEN",), "SLACK_API_URL", "https://slack.com/api"),
    "FEISHU": (("FEISHU_APP_ID", "FEISHU_APP_SECRET"), "FEISHU_API_URL",
               "https://open.feishu.cn"),
    "WECOM": (("WECOM_CORP_ID", "WECOM_APP_SECRET", "WECOM_AGENT_ID"), "WECOM_API_URL",
              "https://qyapi.weixin.qq.com"),
}
ROLE_NAMES = ("ADMIN", "PAGE_MANAGEMENT", "EVENT_MANAGEMENT")
LOCAL_PASSWORD_MODES = ("on", "admins", "off")


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def oidc_config(env: Mapping[str, str], production: bool = False) -> OidcConfig | None:
    issuer = (env.get("OIDC_ISSUER") or "").rstrip("/")
    if not issuer:
        for name in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_ALLOWED_DOMAINS",
                     "OIDC_ALLOWED_GROUPS", "OIDC_ROLE_MAP"):
            if env.get(name):
                raise ValueError(f"{name} is set but OIDC_ISSUER is not")
        return None
    parsed = urlparse(issuer)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"OIDC_ISSUER must be an http(s) address, got {issuer!r}")
    if production and parsed.scheme != "https":
        raise ValueError(f"OIDC_ISSUER must be an https address in production, got {issuer!r}")
    client_id, secret = env.get("OIDC_CLIENT_ID") or "", env.get("OIDC_CLIENT_SECRET") or ""
    if not client_id or not secret:
        raise ValueError("OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be set with OIDC_ISSUER")
    domains = tuple(d.lower().lstrip("@") for d in _list(env, "OIDC_ALLOWED_DOMAINS"))
    groups_claim = (env.get("OIDC_GROUPS_CLAIM") or "").strip() or None
    allowed_groups = _list(env, "OIDC_ALLOWED_GROUPS")
    role_map: list[tuple[str, str]] = []
    for item in _list(env, "OIDC_ROLE_MAP"):
        group, _, role = item.rpartition("=")
        if not group.strip() or role.strip().upper() not in ROLE_NAMES:
            raise ValueError(f"OIDC_ROLE_MAP entries look like group=ROLE with ROLE one of "
                                f"{', '.join(ROLE_NAMES)}, got {item!r}")
        role_map.append((group.strip(), role.strip().upper()))
    if (allowed_groups or role_map) and not groups_claim:
        raise ValueError("OIDC_ALLOWED_GROUPS and OIDC_ROLE_MAP need OIDC_GROUPS_CLAIM")
    if not domains and not allowed_groups:
        raise ValueError("single sign-on needs OIDC_ALLOWED_DOMAINS or OIDC_ALLOWED_GROUPS: "
                            "without them anyone with an account at the provider gets in")
    scopes = " ".join((env.get("OIDC_SCOPES") or "openid email profile").split())
    if "openid" not in scopes.split():
        raise ValueError(f"OIDC_SCOPES must include openid, got {scopes!r}")
    return OidcConfig(issuer=issuer, client_id=client_id, client_secret=secret,
                      provider_name=(env.get("OIDC_PROVIDER_NAME") or "").strip()
                      or parsed.hostname, scopes=scopes, allowed_domains=domains,
                      groups_claim=groups_claim, allowed_groups=allowed_groups,
                      role_map=tuple(role_map))


def im_apps(env: Mapping[str, str], production: bool = False) -> tuple[ImApp, ...]:
    apps = []
    for provider, (names, url_name, default) in IM_APPS.items():
        values = tuple((env.get(n) or "").strip() for n in names)
        if not any(values):
            continue
        missing = [n for n, v in zip(names, values, strict=True) if not v]
        if missing:
            raise ValueError(f"{missing[0]} must be set with {names[0]}")
        if provider == "WECOM" and not values[2].isdigit():
            raise ValueError(f"WECOM_AGENT_ID must be a number, got {values[2]!r}")
        url = (env.get(url_name) or default).rstrip("/")
        if urlparse(url).scheme not in ("http", "https") or not urlparse(url).hostname:
            raise ValueError(f"{url_name} must be an http(s) address, got {url!r}")
        if production and urlparse(url).scheme != "https":
            raise ValueError(f"{url_name} must be an https address in production (the app's "
                             f"secret crosses it), got {url!r}")
        apps.append(ImApp(provider=provider, credentials=values, api_url=url))
    return tuple(apps)


def local_passwords(env: Mapping[str, str], oidc: OidcConfig | None) -> str:
    mode = (env.get("LOCAL_PASSWORDS") or "on").strip().lower()
    if mode not in LOCAL_PASSWORD_MODES:
        raise ValueError(f"LOCAL_PASSWORDS must be on, admins or off, got {mode!r}")
    if mode == "off" and oidc is None:
        raise ValueError("LOCAL_PASSWORDS=off needs single sign-on (OIDC_ISSUER)")
    return mode
