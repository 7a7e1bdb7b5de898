"""What the operator's log shows while notices go out: never a secret. httpx logs each request's
URL at INFO, and WeCom's URLs carry the app secret and the access token (as IM webhook URLs are
themselves credentials). The web process, started the way uvicorn starts it
(`web.app:app_factory`, LOG_LEVEL=info), looks a member up on WeCom against a local stand-in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET, TOKEN = "corp-app-secret-5f2e", "access-token-9c1d"
SCRIPT = f"""
import asyncio, json, threading
from http.server import BaseHTTPRequestHandler, HTTPServer

class WeCom(BaseHTTPRequestHandler):
    def answer(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = json.dumps({{"errcode": 0, "access_token": "{TOKEN}", "expires_in": 7200}}
                          if "gettoken" in self.path else {{"errcode": 0, "userid": "u1"}})
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())
    do_GET = do_POST = answer
    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", 0), WeCom)
threading.Thread(target=server.serve_forever, daemon=True).start()
from web.app import app_factory
app_factory()
from notifications import direct
from settings import ImApp
app = ImApp(provider="WECOM", credentials=("ww-corp", "{SECRET}", "1000002"),
            api_url=f"http://127.0.0.1:{{server.server_port}}")
print("found", asyncio.run(direct.lookup(app, "member@example.com")))
import logging
logging.getLogger("heliograph.test").info("logging works")
"""


def test_the_log_at_info_shows_no_wecom_secret_or_token() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "info"}
    env = {k: v for k, v in env.items() if not k.startswith(("OIDC_", "WECOM_", "SLACK_"))}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, timeout=60,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "found u1" in done.stdout
    assert "logging works" in done.stderr  # the log is on, at INFO
    assert SECRET not in done.stderr and TOKEN not in done.stderr, done.stderr
