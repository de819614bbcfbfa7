"""`flask --app api analytics create-role | export`: the analysts' way in, and CSV out."""

from __future__ import annotations

from typing import IO

import click
from flask import current_app
from flask.cli import AppGroup

from projections.analytics_access import RoleRefused, create_analyst_role, export_csv
from projections.analytics_tables import TABLES

analytics_cli = AppGroup("analytics", help="The analyst schema: read-only roles, CSV exports.")


@analytics_cli.command("create-role", help=(
    "Create (or give a new password to) a PostgreSQL login role that may read the analytics "
    "schema and nothing else."))
@click.argument("name")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="The role's password (prompted for when not given).")
def create_role(name: str, password: str) -> None:
    services = current_app.extensions["mentoring_journeys"].get()
    try:
        with services.read_pool.connection() as connection:
            created = create_analyst_role(connection, name, password)
    except RoleRefused as refusal:
        raise click.ClickException(str(refusal)) from None
    click.echo(f"{'created' if created else 'updated'} role {name}: it may read the analytics "
               "schema only")


@analytics_cli.command("export", help="Write an analytics table as CSV with a header row.")
@click.argument("table", type=click.Choice(sorted(TABLES)))
@click.option("--out", type=click.File("wb"), default="-", show_default=True,
              help="The file to write; - is standard output.")
def export(table: str, out: IO[bytes]) -> None:
    services = current_app.extensions["mentoring_journeys"].get()
    with services.read_pool.connection() as connection:
        export_csv(connection, table, out)
