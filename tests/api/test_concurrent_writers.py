"""Eight clients write to one journey at once over real HTTP (a threaded server): every
acknowledged write is stored exactly once, every refusal is a 409 or 412 that stored nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from api import create_app
from api.bootstrap import Services
from scripts.concurrent_writers import CLIENTS, REQUESTS_PER_CLIENT, concurrent_writers
from tests.api.conftest import SECRET, TODAY


@pytest.fixture
def server(services: Services) -> Iterator[str]:
    http = make_server("127.0.0.1", 0, create_app(services.settings, services), threaded=True)
    serving = threading.Thread(target=http.serve_forever)
    serving.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        serving.join()


def test_concurrent_writers_never_lose_or_duplicate_a_write(server: str) -> None:
    outcome = concurrent_writers(server, SECRET, today=TODAY)

    assert outcome.passed, outcome.detail
    assert sum(outcome.statuses.values()) == CLIENTS * REQUESTS_PER_CLIENT
    assert set(outcome.statuses) <= {201, 409, 412}
    # the four If-Match clients start from the same version: at most one of them wins it
    assert outcome.statuses[412] >= CLIENTS // 2 - 1
    assert outcome.statuses[201] >= REQUESTS_PER_CLIENT
