"""Requests to addresses that users typed in (webhooks): short timeouts, no redirects, and in
production https only, to public addresses only. The host is resolved once, every address is
checked, and the request goes to the checked address (pinned) while the Host header, TLS SNI
and certificate check keep the name — a DNS answer that changes between the check and the
connection (DNS rebinding) cannot send it anywhere else."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import httpx

from settings import get_settings

TIMEOUT = httpx.Timeout(10.0, connect=3.0)
RESOLVE_SECONDS = 3.0
MAX_URL = 1000

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The address may not be called; the message says why, for people."""


def _address(text: str) -> IpAddress | None:
    try:
        address = ipaddress.ip_address(text.strip("[]").split("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def public(address: IpAddress) -> bool:
    """Globally routable unicast: not private, loopback, link-local, reserved, multicast,
    unspecified, shared (100.64/10) or documentation space."""
    return address.is_global and not (
        address.is_private or address.is_loopback or address.is_link_local
        or address.is_reserved or address.is_multicast or address.is_unspecified)


def check_url(url: str) -> str:
    """The URL, stripped, if its form is acceptable (scheme, host; in production https and no
    literal non-public address); Refused otherwise. Names are resolved by `resolve`."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise Refused("This is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL:
        raise Refused("Give the endpoint's full https:// address")
    if parts.username or parts.password:
        raise Refused("The address may not hold a user name or password")
    if get_settings().production:
        if parts.scheme != "https":
            raise Refused("The address must use https://")
        literal = _address(parts.hostname)
        if literal is not None and not public(literal):
            raise Refused(f"{literal} is not a public address")
    return url


async def resolve(host: str, port: int) -> list[IpAddress]:
    """Every address `host` resolves to; Refused when one of them is not public (production
    only) or the name does not resolve."""
    literal = _address(host)
    if literal is not None:
        found = [literal]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(loop.getaddrinfo(
                host, port, type=socket.SOCK_STREAM), RESOLVE_SECONDS)
        except (OSError, TimeoutError):
            raise Refused(f"The name {host} does not resolve") from None
        found = []
        for info in infos:
            address = _address(str(info[4][0]))
            if address is not None and address not in found:
                found.append(address)
        if not found:
            raise Refused(f"The name {host} does not resolve")
    if get_settings().production:
        for address in found:
            if not public(address):
                raise Refused(f"{host} resolves to {address}, which is not a public address")
    return found


async def check_reachable(url: str) -> str:
    """`check_url`, then (production) resolve the name and refuse non-public addresses."""
    url = check_url(url)
    if get_settings().production:
        parts = urlsplit(url)
        assert parts.hostname is not None
        await resolve(parts.hostname, parts.port or 443)
    return url


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


async def post(client: httpx.AsyncClient, url: str, content: bytes,
               headers: dict[str, str]) -> httpx.Response:
    """POST `content` to `url`: no redirects (a 3xx is the answer), short timeouts. In
    production the checked address is pinned, with a client of its own (no proxy from the
    environment, no connection shared between names); elsewhere `client` is used as is.
    Raises Refused, or httpx errors as `client.post` does."""
    url = check_url(url)
    if not get_settings().production:
        return await client.post(url, content=content, headers=headers, timeout=TIMEOUT,
                                 follow_redirects=False)
    parts = urlsplit(url)
    host = parts.hostname
    assert host is not None
    port = parts.port or 443
    address = (await resolve(host, port))[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    pinned = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query,
                         ""))
    host_header = host if parts.port in (None, 443) else f"{host}:{port}"
    async with httpx.AsyncClient(verify=_tls(), trust_env=False, timeout=TIMEOUT,
                                 follow_redirects=False) as pinned_client:
        return await pinned_client.post(
            pinned, content=content, headers={**headers, "Host": host_header},
            extensions={"sni_hostname": host})
