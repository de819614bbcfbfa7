"""`flask --app api journeys verify|heads|export|import|replay`: the auditor's command line."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from typing import Any, TextIO
from uuid import UUID

import click
from flask import current_app
from flask.cli import AppGroup

from domain.application import Mentoring
from domain.errors import NotFound
from domain.history import journey_state
from domain.journey import Journey
from domain.replay import replay_journey
from infra.data_keys import DataKeys, journey_owner
from infra.hash_chain import Verdict
from infra.personal_data_mapper import PersonalDataMapper, offline_mapper
from infra.portable_stream import InvalidStream, export_stream, import_stream, read_stream

journeys_cli = AppGroup("journeys", help="Verify, anchor, export, import and replay streams.")


def _services() -> Any:
    return current_app.extensions["mentoring_journeys"].get()


def data_keys_of(mentoring: Mentoring) -> DataKeys | None:
    mapper = mentoring.mapper
    return mapper.keys if isinstance(mapper, PersonalDataMapper) else None


def _describe(originator_id: UUID, verdict: Verdict) -> str:
    if verdict.ok:
        return f"{originator_id}: ok, {verdict.checked} events, head {verdict.head}"
    return (f"{originator_id}: BROKEN at version {verdict.first_broken_version} "
            f"({verdict.reason}), {verdict.checked} intact before it")


@journeys_cli.command("verify", help="Re-verify the hash chain of one stream, or of all.")
@click.argument("originator_id", type=click.UUID, required=False)
@click.option("--all", "every", is_flag=True, help="Every journey and programme in the store.")
@click.option("--anchored", type=click.File("r"), default=None,
              help="A `journeys heads` listing kept outside the database: each of its hashes "
                   "must still be in the chain.")
def verify(originator_id: UUID | None, every: bool, anchored: Any) -> None:
    if (originator_id is None) == (not every and anchored is None):
        raise click.UsageError("name one stream id, or --all, or --anchored FILE")
    chain = _services().event_chain
    broken = 0
    if originator_id is not None:
        verdict = chain.verify(originator_id)
        if verdict is None:
            raise click.ClickException(f"no stream {originator_id} in this store")
        click.echo(_describe(originator_id, verdict))
        broken += not verdict.ok
    if every:
        ids = chain.originator_ids()
        with click.progressbar(ids, label="verifying", file=sys.stderr) as bar:
            failures = [(i, v) for i in bar if not (v := chain.verify(i)).ok]
        for failing_id, verdict in failures:
            click.echo(_describe(failing_id, verdict))
        click.echo(f"{len(ids) - len(failures)} of {len(ids)} streams intact")
        broken += len(failures)
    if anchored is not None:
        broken += _check_anchors(chain, anchored)
    if broken:
        sys.exit(1)


def _check_anchors(chain: Any, listing: Any) -> int:
    """An anchored head must still be the hash stored at its version: a chain rewritten from
    the start (every hash recomputed) keeps verifying, but no longer matches its anchors."""
    mismatches = checked = 0
    for line in listing:
        if not line.strip():
            continue
        originator_id, version, expected = line.split()
        checked += 1
        verdict = chain.verify(UUID(originator_id))
        actual = chain.hash_at(UUID(originator_id), int(version))
        if actual != expected or verdict is None or not verdict.ok:
            mismatches += 1
            click.echo(f"{originator_id}: version {version} no longer matches its anchored "
                       f"hash {expected}")
    click.echo(f"{checked - mismatches} of {checked} anchored heads still hold")
    return mismatches


@journeys_cli.command("heads", help="Each stream's latest version and hash, one per line, "
                                    "to anchor outside the database.")
def heads() -> None:
    for head in _services().event_chain.heads():
        click.echo(f"{head.originator_id} {head.version} {head.hash}")


@journeys_cli.command("export", help="Write a journey's stream as JSON Lines.")
@click.argument("journey_id", type=click.UUID)
@click.option("--out", type=click.File("w", encoding="utf-8"), default="-",
              help="The file to write (default: standard output).")
@click.option("--without-key", is_flag=True,
              help="Leave the journey's data key out: its free text then reads [erased] "
                   "wherever the file is imported or replayed.")
def export(journey_id: UUID, out: TextIO, without_key: bool) -> None:
    services = _services()
    keys = None if without_key else data_keys_of(services.mentoring)
    try:
        stream = export_stream(services.event_chain, journey_id, keys)
    except InvalidStream as refusal:
        raise click.ClickException(str(refusal)) from None
    out.writelines(stream.lines())


@journeys_cli.command("import", help="Load an exported journey into this store, all or nothing.")
@click.argument("file", type=click.File("r", encoding="utf-8"))
def import_(file: TextIO) -> None:
    services = _services()
    try:
        stream = read_stream(file)
        import_stream(services.mentoring, services.event_chain, stream,
                      snapshot_every=Mentoring.snapshotting_intervals[Journey],
                      keys=data_keys_of(services.mentoring))
    except InvalidStream as refusal:
        raise click.ClickException(str(refusal)) from None
    click.echo(f"imported journey {stream.events[0].originator_id}, {len(stream.events)} events")


@journeys_cli.command("replay", help="Print a journey's state from an exported file, offline.")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--at", type=click.DateTime(["%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z",
                                          "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S",
                                          "%Y-%m-%d"]),
              help="As it stood at this time (UTC unless an offset is given).")
@click.option("--version", type=click.IntRange(min=1), help="As of this version.")
def replay(file: TextIO, at: datetime | None, version: int | None) -> None:
    if at is not None and version is not None:
        raise click.UsageError("ask for --at or --version, not both")
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    try:
        stream = read_stream(file)
        keys = {} if stream.key is None else {
            journey_owner(stream.events[0].originator_id): stream.key}
        journey = replay_journey((e.stored() for e in stream.events), offline_mapper(keys),
                                 version=version, at=at)
    except (InvalidStream, NotFound) as refusal:
        raise click.ClickException(str(refusal)) from None
    click.echo(json.dumps(journey_state(journey), default=_plain, indent=2, ensure_ascii=False))


def _plain(value: Any) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)
