"""Settings: embedded defaults, and start-up failures that name the faulty variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from settings import SettingsError, load_settings

pytestmark = pytest.mark.onepass


def test_defaults_need_no_services(tmp_path: Path) -> None:
    settings = load_settings({"VAR_DIR": str(tmp_path)})
    assert settings.database_url.startswith("sqlite://")
    assert settings.broadcast_url == "memory://"
    assert settings.embedded_worker and not settings.production
    # the generated secret is kept: the next start reads the same one
    assert load_settings({"VAR_DIR": str(tmp_path)}).secret_key == settings.secret_key


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"BROADCAST_URL": "kafka://x"}, "BROADCAST_URL"),
        ({"MAX_PUBLIC_PAGES": "five"}, "MAX_PUBLIC_PAGES"),
        ({"HELIOGRAPH_ENV": "prod"}, "HELIOGRAPH_ENV"),
        ({"HELIOGRAPH_ENV": "production"}, "SECRET_KEY"),
        ({"HELIOGRAPH_COLOUR": "blue"}, "HELIOGRAPH_COLOUR"),
        ({"SMTP_URL": "smtp://host:25?bogus=1"}, "SMTP_URL"),
        ({"EMBEDDED_WORKER": "maybe"}, "EMBEDDED_WORKER"),
        ({"BASE_URL": "ftp://x"}, "BASE_URL"),
    ],
)
def test_malformed_values_name_the_variable(tmp_path: Path, env: dict[str, str],
                                            name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({"VAR_DIR": str(tmp_path), **env})


def test_smtp_url_is_parsed(tmp_path: Path) -> None:
    settings = load_settings({"VAR_DIR": str(tmp_path),
                              "SMTP_URL": "smtp://u%40x:p%3Ass@mail.local:2525?starttls=true"})
    assert settings.smtp is not None
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.username,
            settings.smtp.password, settings.smtp.start_tls) == (
        "mail.local", 2525, "u@x", "p:ss", True)
