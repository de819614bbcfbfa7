"""The API and the projector start at the same moment on a new database (`make run` on a fresh
clone): both create the tables, and neither may fail for it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from api.bootstrap import Services, bootstrap
from infra.settings import Settings


def test_four_processes_bootstrapping_a_new_database_at_once_all_succeed(
        database_url: str) -> None:
    settings = Settings.from_env({"DATABASE_URL": database_url, "JOURNEYS_JWT_SECRET": "s" * 40,
                                  "JOURNEYS_ANALYTICS_KEY": "k" * 40})
    with ThreadPoolExecutor(max_workers=4) as pool:
        started: list[Services] = list(pool.map(lambda _: bootstrap(settings), range(4)))
    try:
        assert [services.mentoring.recorder.max_notification_id() for services in started] == [
            None, None, None, None]
    finally:
        for services in started:
            services.close()
