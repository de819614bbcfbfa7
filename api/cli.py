"""Command-line tools: `flask --app api token | projections run|rebuild|status | demo seed`; the
`journeys` commands are in api/journeys_cli.py, the `analytics` ones in api/analytics_cli.py,
`journeys erase` and `people erase` in api/erasure_cli.py."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from datetime import timedelta
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from tqdm import tqdm

from api.analytics_cli import analytics_cli
from api.auth import ROLES, mint_token
from api.erasure_cli import people_cli
from api.health import projection_report
from api.journeys_cli import journeys_cli
from api.rebuild_helpers import HelperFailed, Helpers, batch_size, serve_as_helper, shares
from infra.database import DATABASE_UNAVAILABLE
from infra.secrets import jwt_secret
from infra.settings import Settings
from projections.batches import collect_garbage_rarely
from projections.runner import Outage
from projections.tracking import Tracking

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
    services = _services_once_reachable(stop)
    if services is None:
        return
    projector = services.projector()
    collect_garbage_rarely()
    click.echo("projector running; Ctrl-C stops it", err=True)
    projector.run_forever(stop)
    click.echo("projector stopped", err=True)


def _services_once_reachable(stop: threading.Event) -> Any:
    """A projector started while the database is down waits for it instead of exiting, as
    it does when the database goes away later (`Projector.run_forever`)."""
    outage = Outage()
    while not stop.is_set():
        try:
            services = _services()
        except DATABASE_UNAVAILABLE as error:
            stop.wait(outage.retry_after(error))
            continue
        outage.over()
        return services
    return None


@projections_cli.command("rebuild", help="Rebuild projections (all, or those named) from the "
                         "start of the log beside the live views, and swap each in when caught "
                         "up. With --processes N (default 2) the projections are shared out "
                         "among N processes, each reading the whole log.")
@click.argument("names", nargs=-1)
@click.option("--processes", default=2, show_default=True, type=click.IntRange(1, 16),
              help="How many processes share the projections out (one core each).")
@click.option("--helper", is_flag=True, hidden=True,
              help="Started by another rebuild command: rebuild NAMES quietly.")
def rebuild_projections(names: tuple[str, ...], processes: int, helper: bool) -> None:
    if helper:
        serve_as_helper()
    services = _services()
    known = [projection.name for projection in services.projector().projections]
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise click.UsageError(f"no projection {', '.join(unknown)}; there are "
                               f"{', '.join(known)}")
    chosen = list(names or known)
    collect_garbage_rarely()
    if helper:  # `processes` is how many share the rebuild, this one among them
        services.projector(rebuild_batch_size=batch_size(processes)).rebuild(chosen)
        return  # a halt is in its tracking row: the command reports it
    mine, *theirs = shares(chosen, processes)
    projector = services.projector(rebuild_batch_size=batch_size(1 + len(theirs)))
    projector.rebuilds.request(chosen)  # the bar counts every share from the start
    helpers = Helpers(theirs, 1 + len(theirs))
    try:
        final = _rebuild_with_progress(services, projector, chosen, mine, helpers)
    except HelperFailed as failure:
        raise click.ClickException(str(failure)) from None
    finally:
        helpers.stop()
    halted = {name: final[name] for name in chosen if final[name].status == "halted"}
    for name, state in halted.items():
        error = state.error or (state.rebuild.error if state.rebuild else None)
        click.echo(f"{name}: halted: {error}", err=True)
    if halted:
        raise SystemExit(1)
    for name in chosen:
        click.echo(f"{name}: version {final[name].version} at position {final[name].position}")


def _rebuild_with_progress(services: Any, projector: Any, chosen: list[str], mine: list[str],
                           helpers: Helpers) -> dict[str, Tracking]:
    """Rebuild our share while the helpers rebuild theirs; the bar shows the slowest of all."""
    head = services.mentoring.recorder.max_notification_id
    with tqdm(total=head() or 0, unit="event", unit_scale=True, file=sys.stderr,
              desc=f"rebuilding {', '.join(chosen)}", mininterval=0.5) as bar:
        def progress(states: dict[str, Tracking]) -> None:
            helpers.check()
            total = max(head() or 0, int(bar.total or 0))
            positions = [build.position for name in chosen if (build := states[name].rebuild)]
            bar.total = total
            bar.update((min(positions) if positions else total) - int(bar.n))

        final = projector.rebuild(mine, progress)
        while helpers.check():
            time.sleep(0.5)
            final = projector.states()
            progress(final)
        final = projector.states()
        progress(final)
    return final


@projections_cli.command("status", help="Each projection's position, lag (events, seconds) and "
                         "state (running, rebuilding, halted), as JSON.")
def projections_status() -> None:
    click.echo(json.dumps(projection_report(), indent=2, default=str))


@demo_cli.command("seed", help="Create a demonstration programme with realistic journeys.")
def seed() -> None:
    from api.demo import seed_demo

    programme_id = seed_demo(_services().mentoring)
    click.echo(f"seeded programme {programme_id}")
