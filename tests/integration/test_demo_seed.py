"""`flask --app api demo seed` gives a newcomer a programme that looks like real mentoring."""

from __future__ import annotations

from datetime import date

from api import create_app
from api.bootstrap import bootstrap
from infra.settings import Settings
from projections import queries


def test_demo_seed_creates_four_journeys_in_every_state(database_url: str) -> None:
    settings = Settings.from_env({"DATABASE_URL": database_url, "JOURNEYS_JWT_SECRET": "s" * 40,
                                  "JOURNEYS_ANALYTICS_KEY": "a" * 40})
    services = bootstrap(settings, today=lambda: date(2026, 11, 27))
    try:
        result = create_app(settings, services).test_cli_runner().invoke(args=["demo", "seed"])
        assert result.exit_code == 0, result.output
        programme_id = result.output.split()[-1]

        services.projector().run_once()
        with services.read_pool.connection() as connection:
            journeys, total = queries.list_journeys(connection, today=date(2026, 11, 27))
            programme = queries.programme(connection, journeys[0]["programme_id"])
        assert programme is not None and str(programme["id"]) == programme_id
        assert total == 4 and programme["journeys"] == 4
        assert len(programme["participants"]) == 6
        assert sorted(j["status"] for j in journeys) == [
            "abandoned", "active", "active", "completed"]
        assert sorted(j["health"] for j in journeys) == [
            "abandoned", "at_risk", "completed", "on_track"]
    finally:
        services.close()
