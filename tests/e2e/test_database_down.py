"""Served when the database is down: a real uvicorn process whose PostgreSQL database goes
away (its connections cut by a TCP proxy between them, new ones refused, as when the server
stops or the network fails) keeps answering the public status page, summary.json, the feeds,
and the history and event pages from the last good state, marked stale, while /readyz says
503; internal pages leak nothing, not even to a member; JSON endpoints answer JSON. When the
database comes back, fresh answers resume.

PostgreSQL only: the embedded SQLite file has no server that can go away."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlparse, urlunparse

import httpx
import pytest

from tests.conftest import TEST_DB
from tests.helpers.server import ROOT, free_port, running_server

# `make test` runs these in the PostgreSQL pass only; the skip is for a bare `pytest` run.
pytestmark = [pytest.mark.pgserver, pytest.mark.skipif(
    not TEST_DB, reason="needs a PostgreSQL server that can go away (the PostgreSQL pass)")]

CREATE_PAGE = """mutation($input: CreatePageInput!) { createPage(input: $input) {
  ... on CreatePagePayload { page { id } } } }"""
CREATE_INCIDENT = """mutation($input: CreateIncidentInput!) { createIncident(input: $input) {
  ... on CreateIncidentPayload { event { id } } ... on Error { message } } }"""
PAST_EVENT = """{ page(slug: "demo") { events(state: PAST, first: 1) { nodes { id title } } } }"""
CREATE_COMPONENT = """mutation($input: CreateComponentInput!) { createComponent(input: $input) {
  ... on CreateComponentPayload { component { id } } } }"""


class Proxy:
    """A TCP proxy from 127.0.0.1:port to the database server that can be cut and restored."""

    def __init__(self, target: tuple[str, int], port: int) -> None:
        self.target = target
        self.port = port
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """The database goes away: open connections reset, new ones refused."""
        if self._listener is not None:
            with contextlib.suppress(OSError):  # wakes the accepting thread (Linux)
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for s in self._sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self._sockets.clear()


def _url(name: str, port: int | None = None) -> str:
    parsed = urlparse(TEST_DB.replace("postgresql://", "postgres://", 1))
    netloc = parsed.netloc if port is None else \
        parsed.netloc.rsplit("@", 1)[0] + f"@127.0.0.1:{port}" if "@" in parsed.netloc \
        else f"127.0.0.1:{port}"
    return urlunparse(parsed._replace(netloc=netloc, path=f"/{name}"))


@contextlib.contextmanager
def throwaway_database() -> Iterator[str]:
    name = f"heliograph_down_{secrets.token_hex(4)}"
    admin = ["psql", _url("postgres"), "-qc"]
    subprocess.run([*admin, f'CREATE DATABASE "{name}"'], check=True, timeout=60)
    try:
        yield name
    finally:
        subprocess.run([*admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
                       check=True, timeout=60)


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True, timeout=120)
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def graphql(base: str, token: str, query: str, variables: dict[str, object]) -> dict[str, object]:
    answer = httpx.post(f"{base}/graphql", json={"query": query, "variables": variables},
                        headers={"authorization": f"Bearer {token}"}, timeout=30)
    answer.raise_for_status()
    data: dict[str, object] = answer.json()["data"]
    return data


def until(check: object, deadline: float = 20.0) -> None:
    """Poll `check()` until it is true (a liveness deadline, not a performance bound)."""
    stop = time.monotonic() + deadline
    while not check():  # type: ignore[operator]
        assert time.monotonic() < stop, "never happened"
        time.sleep(0.2)


def test_public_reads_survive_the_database_going_away_and_leak_nothing() -> None:
    target = urlparse(_url("postgres"))
    port = free_port()
    proxy = Proxy((target.hostname or "127.0.0.1", target.port or 5432), port)
    proxy.start()
    with throwaway_database() as name:
        env = {**os.environ, "DATABASE_URL": _url(name), "BROADCAST_URL": "memory://"}
        cli(env, "migrate")
        cli(env, "demo")
        cli(env, "createuser", "--email", "ops@example.com", "--password", "x" * 12, "--admin")
        token = cli(env, "token", "--email", "ops@example.com")
        with running_server({"DATABASE_URL": _url(name, port), "BROADCAST_URL": "memory://",
                             "DEFAULT_PAGE": "demo"}) as base:
            page = graphql(base, token, CREATE_PAGE, {"input": {
                "slug": "staff", "name": "Staff Secrets", "visibility": "INTERNAL"}})
            page_id = page["createPage"]["page"]["id"]  # type: ignore[index]
            graphql(base, token, CREATE_COMPONENT, {"input": {"pageId": page_id,
                                                              "name": "Vault Secret"}})
            drill = graphql(base, token, CREATE_INCIDENT, {"input": {
                "pageId": page_id, "title": "Secret drill", "message": "Drill", "notify": False}})
            drill_id = drill["createIncident"]["event"]["id"]  # type: ignore[index]
            past = graphql(base, token, PAST_EVENT, {})["page"]["events"]["nodes"][0]  # type: ignore
            member = {"authorization": f"Bearer {token}"}
            reads = ["/p/demo", "/", "/p/demo/api/v2/summary.json", "/api/v2/summary.json",
                     "/p/demo/api/v2/components.json", "/p/demo/history.atom",
                     "/p/demo/maintenance.ics"]
            pages = {"/p/demo/history": "Heliograph Demo",
                     f"/p/demo/events/{past['id']}": past["title"]}
            good = {path: httpx.get(base + path, timeout=30) for path in [*reads, *pages]}
            assert all(r.status_code == 200 for r in good.values())
            assert "Vault Secret" in httpx.get(f"{base}/p/staff/api/v2/summary.json",
                                               headers=member, timeout=30).text
            internal = ["/p/staff/history", f"/p/staff/events/{drill_id}"]
            assert all("Secret drill" in httpx.get(base + path, headers=member, timeout=30).text
                       for path in internal)
            assert httpx.get(f"{base}/readyz", timeout=30).status_code == 200

            proxy.cut()
            until(lambda: httpx.get(f"{base}/readyz", timeout=30).status_code == 503)
            time.sleep(1.2)  # past the once-a-second re-read of each page's sequence

            html = httpx.get(f"{base}/p/demo", timeout=30)
            assert html.status_code == 200 and "may be out of date" in html.text
            assert "Heliograph Demo" in html.text and "All systems operational" in html.text
            assert "may be out of date" in httpx.get(f"{base}/", timeout=30).text
            for path in reads[2:]:
                stale = httpx.get(base + path, timeout=30)
                assert stale.status_code == 200, path
                assert stale.headers["x-heliograph-stale"] == "1", path
                assert stale.content == good[path].content, path  # served as last built
            for path, shown in pages.items():
                stale = httpx.get(base + path, timeout=30)
                assert stale.status_code == 200 and stale.headers["x-heliograph-stale"] == "1"
                assert "may be out of date" in stale.text and shown in stale.text, path
            summary = httpx.get(f"{base}/p/demo/api/v2/summary.json", timeout=30).json()
            assert summary["status"]["indicator"] == "none"

            # Never read while up: JSON saying so, not a plain-text 500.
            never = httpx.get(f"{base}/p/demo/api/v2/incidents.json", timeout=30)
            assert never.status_code == 503 and never.json()["error"] == "unavailable"
            # An internal page: nothing of it, to anyone anonymous, stale or not.
            for path in ("/p/staff", "/p/staff/api/v2/summary.json", "/p/staff/history.atom",
                         *internal):
                hidden = httpx.get(base + path, timeout=30)
                assert hidden.status_code in {404, 503}, path
                assert "Secret" not in hidden.text, path
            for path in internal:  # a member's renderings are never kept
                hidden = httpx.get(base + path, headers=member, timeout=30)
                assert hidden.status_code == 503 and "Secret" not in hidden.text, path
            assert httpx.get(f"{base}/api/v2/nosuch.json", timeout=30).json()["error"] \
                == "not_found"

            proxy.start()  # the database is back
            until(lambda: httpx.get(f"{base}/readyz", timeout=30).status_code == 200)
            until(lambda: "x-heliograph-stale" not in httpx.get(
                f"{base}/p/demo/api/v2/summary.json", timeout=30).headers)
            until(lambda: "may be out of date" not in httpx.get(f"{base}/p/demo",
                                                                timeout=30).text)
    proxy.cut()
