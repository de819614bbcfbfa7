"""End to end: `make serve` (scripts/serve.py) runs gunicorn with the production config and the
projector, logs each request as one JSON object, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from api.auth import mint_token
from scripts.served import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "serve-secret-" + "x" * 30


@dataclass
class Served:
    base_url: str
    launcher: subprocess.Popen[str]
    output: list[str]

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.output if line.startswith("{")]


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Served]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PORT": str(port),
           "WEB_CONCURRENCY": "1", "JOURNEYS_WEB_THREADS": "2", "JOURNEYS_JWT_SECRET": SECRET,
           "JOURNEYS_VAR_DIR": str(tmp_path / "var"), "JOURNEYS_PROJECTOR_POLL_SECONDS": "0.2"}
    launcher = subprocess.Popen([sys.executable, "scripts/serve.py"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(launcher.stdout.readline, "")))
    reader.start()
    try:
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while not any(line.startswith(f"serve: serving on {base_url} ") for line in output):
            assert launcher.poll() is None, "".join(output)
            assert time.monotonic() < deadline, "not serving within 60 s:\n" + "".join(output)
            time.sleep(0.1)
        yield Served(base_url, launcher, output)
    finally:
        if launcher.poll() is None:
            launcher.send_signal(signal.SIGTERM)
        launcher.wait(timeout=60)
        reader.join()


def test_make_serve_runs_gunicorn_and_the_projector_and_logs_each_request_as_json(
        served: Served) -> None:
    headers = {"Authorization": "Bearer " + mint_token(SECRET, "admin-1", ["admin"]),
               "User-Agent": 'journeys-e2e "quoted"', "X-Request-Id": "req-7"}
    launched = requests.post(served.base_url + "/v1/programmes", headers=headers, timeout=30,
                             json={"name": "Leaders", "starts_on": "2026-01-05"})
    assert launched.status_code == 201, launched.text
    programme = launched.json()
    # Read-your-writes answers 200 only once the projector has applied the launch.
    shown = requests.get(f"{served.base_url}/v1/programmes/{programme['id']}",
                         params={"min_position": programme["position"]}, headers=headers,
                         timeout=30)
    assert shown.status_code == 200, shown.text
    assert shown.json()["name"] == "Leaders"

    served.launcher.send_signal(signal.SIGTERM)
    assert served.launcher.wait(timeout=60) == 0, "".join(served.output)
    with pytest.raises(requests.ConnectionError):
        requests.get(served.base_url + "/healthz", timeout=5)

    logged = [line for line in served.json_lines() if line["method"] == "POST"]
    assert len(logged) == 1
    line = logged[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line.pop("time"))
    assert line.pop("duration_ms") > 0
    assert line == {
        "remote_addr": "127.0.0.1", "forwarded_for": None, "method": "POST",
        "path": "/v1/programmes", "query": None, "status": 201,
        "bytes": len(launched.content), "user_agent": 'journeys-e2e "quoted"',
        "request_id": "req-7",
    }
    assert [(line["method"], line["path"], line["status"]) for line in served.json_lines()
            if line["path"].startswith("/v1/")] == [
        ("POST", "/v1/programmes", 201), ("GET", f"/v1/programmes/{programme['id']}", 200)]
    assert sum("projector running" in line for line in served.output) == 1
    assert sum("projector stopped" in line for line in served.output) == 1


def test_make_serve_refuses_to_start_without_a_database_url() -> None:
    env = {**os.environ, "DATABASE_URL": ""}
    refused = subprocess.run([sys.executable, "scripts/serve.py"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)

    assert refused.returncode == 2
    assert refused.stderr.startswith("serve: DATABASE_URL is not set: production serving needs")
