"""A private Prometheus Alertmanager (Debian's `prometheus-alertmanager`) on spare 127.0.0.1
ports with a temporary configuration, for the end-to-end automation tests."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers.server import free_port, stop_process, wait_http

BINARY = "/usr/bin/prometheus-alertmanager"

CONFIG = """
route:
  receiver: heliograph
  group_by: ['alertname']
  group_wait: {group_wait}
  group_interval: 1s
  repeat_interval: 1s
receivers:
  - name: heliograph
    webhook_configs:
      - url: '{url}'
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: '{token}'
"""


@contextmanager
def running_alertmanager(directory: Path, webhook_url: str, token: str,
                         group_wait: str = "1s") -> Iterator[str]:
    """Alertmanager whose one receiver posts to `webhook_url` with the token as a Bearer;
    no clustering, its own storage; yields its base URL."""
    config = directory / "alertmanager.yml"
    config.write_text(CONFIG.format(url=webhook_url, token=token, group_wait=group_wait))
    port = free_port()
    process = subprocess.Popen(
        [BINARY, f"--config.file={config}", f"--storage.path={directory / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
         "--log.level=warn"],
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/-/ready")
        yield base
    finally:
        stop_process(process)
