"""Logging for the processes (`heliograph serve`, `heliograph worker`, the ASGI factory).

httpx logs every request's full URL at INFO, and some URLs carry secrets: WeCom takes its
app secret and access token in the query string (`gettoken?corpsecret=…`,
`message/send?access_token=…`), and IM webhook URLs are themselves the credential
(`hooks.slack.com/services/…`, `oapi.dingtalk.com/robot/send?access_token=…`). Those
loggers keep to warnings, so LOG_LEVEL=info or debug never writes a secret."""

from __future__ import annotations

import logging

QUIET = ("httpx", "httpcore")


def configure(level: str) -> None:
    """Root logging at `level` (a LOG_LEVEL value); the HTTP client's request log off."""
    logging.basicConfig(level=level.upper())
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
