"""Forgetting personal data from the command line: `flask --app api journeys erase ID` and
`flask --app api people erase PERSON_ID`, each with `--reason`.

Both destroy a data key (SPEC 6) and record the erasure as an event, exactly as
`POST /v1/journeys/{id}/erasure` does; a person's display name has no endpoint, only this.
"""

from __future__ import annotations

import json
import os
import pwd
from typing import Any
from uuid import UUID

import click
from flask import current_app
from flask.cli import AppGroup

from api.journeys_cli import journeys_cli
from domain.application import Saved
from domain.errors import DomainError
from projections import queries, tracking
from projections.programmes import ProgrammesProjection

people_cli = AppGroup("people", help="People enrolled in programmes.")


def _operator() -> str:
    """Who ran the command, recorded as the erasure's actor unless `--actor` says otherwise."""
    return "cli:" + pwd.getpwuid(os.getuid()).pw_name


def _services() -> Any:
    return current_app.extensions["mentoring_journeys"].get()


def _saved(saved: Saved) -> dict[str, Any]:
    return {"id": str(saved.id), "version": saved.version, "position": saved.position}


@journeys_cli.command("erase", help="Forget a journey's free text by destroying its key.")
@click.argument("journey_id", type=click.UUID)
@click.option("--reason", required=True,
              help="Why, for the audit trail; it stays readable, so name no one in it.")
@click.option("--actor", default=_operator, show_default="cli:<your user name>",
              help="The person id recorded as the erasure's actor.")
def erase_journey(journey_id: UUID, reason: str, actor: str) -> None:
    try:
        saved = _services().mentoring.erase_personal_data(journey_id, reason, actor=actor)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(json.dumps(_saved(saved)))


@people_cli.command("erase", help="Forget a person's display name in every programme.")
@click.argument("person_id")
@click.option("--reason", required=True,
              help="Why, for the audit trail; it stays readable, so name no one in it.")
@click.option("--actor", default=_operator, show_default="cli:<your user name>",
              help="The person id recorded as the erasure's actor.")
def erase_person(person_id: str, reason: str, actor: str) -> None:
    """The programmes come from the read model, brought up to date first, so an enrolment
    stored a moment ago is not missed."""
    services = _services()
    services.projector().run_once()
    with services.read_pool.connection() as connection, connection.cursor() as cursor:
        if tracking.read_all(cursor)[ProgrammesProjection.name].halted:
            raise click.ClickException("the programmes read model is halted; see "
                                       "`flask --app api projections status`")
        programme_ids = queries.programmes_enrolling(connection, person_id)
    try:
        saved = services.mentoring.erase_display_name(
            person_id, reason, programme_ids=programme_ids, actor=actor)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(json.dumps([_saved(s) for s in saved]))
