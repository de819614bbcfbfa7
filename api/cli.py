"""Command-line tools: `flask --app api token | projections run|status | demo seed`; the
`journeys` commands are in api/journeys_cli.py, the `analytics` ones in api/analytics_cli.py,
`journeys erase` and `people erase` in api/erasure_cli.py."""

from __future__ import annotations

import json
import signal
import threading
from datetime import timedelta
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from api.analytics_cli import analytics_cli
from api.auth import ROLES, mint_token
from api.erasure_cli import people_cli
from api.health import projection_report
from api.journeys_cli import journeys_cli
from infra.secrets import jwt_secret
from infra.settings import Settings

projections_cli = AppGroup("projections", help="Run and inspect the read-model projector.")
demo_cli = AppGroup("demo", help="Demonstration data.")


def register_commands(app: Flask, settings: Settings) -> None:
    @app.cli.command("token", help="Print a signed development token.")
    @click.option("--sub", required=True, help="The person id the token speaks for.")
    @click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES))
    @click.option("--programme", "programmes", multiple=True, default=("*",), show_default=True,
                  help="Programme ids the admin/auditor/analyst roles cover.")
    @click.option("--hours", default=12, show_default=True, help="Lifetime of the token.")
    def token(sub: str, roles: tuple[str, ...], programmes: tuple[str, ...], hours: int) -> None:
        if settings.jwt_public_key_file or settings.jwt_jwks_file:
            raise click.ClickException(
                "tokens are checked with RS256 keys of your identity provider "
                "(JOURNEYS_JWT_PUBLIC_KEY_FILE or JOURNEYS_JWT_JWKS_FILE); ask it for one")
        click.echo(mint_token(jwt_secret(settings), sub, roles, programmes=programmes,
                              ttl=timedelta(hours=hours)))

    app.cli.add_command(projections_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(journeys_cli)
    app.cli.add_command(analytics_cli)
    app.cli.add_command(people_cli)


def _services() -> Any:
    return current_app.extensions["mentoring_journeys"].get()


@projections_cli.command("run", help="Follow the event log into the read models until stopped.")
def run_projections() -> None:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    projector = _services().projector()
    click.echo("projector running; Ctrl-C stops it", err=True)
    projector.run_forever(stop)
    click.echo("projector stopped", err=True)


@projections_cli.command("status", help="Each projection's position, lag and state, as JSON.")
def projections_status() -> None:
    click.echo(json.dumps(projection_report(), indent=2))


@demo_cli.command("seed", help="Create a demonstration programme with realistic journeys.")
def seed() -> None:
    from api.demo import seed_demo

    programme_id = seed_demo(_services().mentoring)
    click.echo(f"seeded programme {programme_id}")
