"""Single sign-on settings: what they give, and start-up failures naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from settings import SettingsError, load_settings

pytestmark = pytest.mark.onepass
SSO = {"OIDC_ISSUER": "https://login.example.com/realms/staff/", "OIDC_CLIENT_ID": "status",
       "OIDC_CLIENT_SECRET": "s3cret", "OIDC_ALLOWED_DOMAINS": "Example.com, @corp.example"}


def test_single_sign_on_is_read_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings({"VAR_DIR": str(tmp_path), **SSO, "OIDC_GROUPS_CLAIM": "groups",
                              "OIDC_ROLE_MAP": "status-admins=ADMIN, ops=event_management",
                              "LOCAL_PASSWORDS": "admins"})
    oidc = settings.oidc
    assert oidc is not None
    assert oidc.issuer == "https://login.example.com/realms/staff"
    assert oidc.provider_name == "login.example.com"
    assert oidc.allowed_domains == ("example.com", "corp.example")
    assert oidc.role_map == (("status-admins", "ADMIN"), ("ops", "EVENT_MANAGEMENT"))
    assert oidc.scopes == "openid email profile"
    assert "s3cret" not in repr(settings)
    assert settings.local_passwords == "admins"


def test_im_apps_for_direct_messages(tmp_path: Path) -> None:
    settings = load_settings({"VAR_DIR": str(tmp_path), "SLACK_BOT_TOKEN": "xoxb-1"})
    slack = settings.im_app("SLACK")
    assert slack is not None and slack.api_url == "https://slack.com/api"
    assert settings.im_app("FEISHU") is None and "xoxb-1" not in repr(settings)


def test_without_an_issuer_there_is_no_single_sign_on(tmp_path: Path) -> None:
    settings = load_settings({"VAR_DIR": str(tmp_path)})
    assert settings.oidc is None and settings.local_passwords == "on"


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({**SSO, "OIDC_ISSUER": "login.example.com"}, "OIDC_ISSUER"),
        ({**SSO, "OIDC_CLIENT_SECRET": ""}, "OIDC_CLIENT_SECRET"),
        ({"OIDC_CLIENT_ID": "status"}, "OIDC_CLIENT_ID"),
        ({**SSO, "OIDC_ALLOWED_DOMAINS": ""}, "OIDC_ALLOWED_DOMAINS"),
        ({**SSO, "OIDC_ROLE_MAP": "ops=OWNER", "OIDC_GROUPS_CLAIM": "groups"}, "OIDC_ROLE_MAP"),
        ({**SSO, "OIDC_ROLE_MAP": "ops=ADMIN"}, "OIDC_GROUPS_CLAIM"),
        ({**SSO, "OIDC_SCOPES": "email profile"}, "OIDC_SCOPES"),
        ({**SSO, "LOCAL_PASSWORDS": "some"}, "LOCAL_PASSWORDS"),
        ({"LOCAL_PASSWORDS": "off"}, "LOCAL_PASSWORDS"),
        ({"FEISHU_APP_ID": "cli_app"}, "FEISHU_APP_SECRET"),
        ({"WECOM_CORP_ID": "ww1", "WECOM_APP_SECRET": "s", "WECOM_AGENT_ID": "app"},
         "WECOM_AGENT_ID"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": "ftp://slack"}, "SLACK_API_URL"),
    ],
)
def test_malformed_single_sign_on_settings_name_the_variable(
        tmp_path: Path, env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({"VAR_DIR": str(tmp_path), **env})


@pytest.mark.parametrize(("env", "name"), [
    ({**SSO, "OIDC_ISSUER": "http://login.example.com/realms/staff"}, "OIDC_ISSUER"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": "http://slack.internal/api"},
     "SLACK_API_URL"),
    ({"WECOM_CORP_ID": "ww", "WECOM_APP_SECRET": "s", "WECOM_AGENT_ID": "1",
      "WECOM_API_URL": "http://wecom.internal"}, "WECOM_API_URL"),
])
def test_production_sends_secrets_over_https_only(tmp_path: Path, env: dict[str, str],
                                                   name: str) -> None:
    # The client secret and ID tokens, bot tokens and app secrets cross these addresses.
    production = {"VAR_DIR": str(tmp_path), "HELIOGRAPH_ENV": "production",
                  "SECRET_KEY": "production-secret-key-0123456789"}
    with pytest.raises(SettingsError, match=f"{name} must be an https address"):
        load_settings({**production, **env})
    assert load_settings({"VAR_DIR": str(tmp_path), **env}) is not None  # development: fine
