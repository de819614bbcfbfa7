"""The progress view as the API answers it, read in one statement (SPEC 2 and 3).

A read of the progress view is the API's busiest request. One round trip gives everything it
needs: how far the read models have got (read-your-writes and `Projection-Position`), the
journey's version (its ETag), and the JSON document itself, built by PostgreSQL with
`health` and `overdue` computed for `today`. A single statement sees a single snapshot, so
the position, the version and the document always agree; the API runs it in autocommit, so
it costs no BEGIN or COMMIT either. The document is sent as PostgreSQL wrote it: no row is
turned into Python values and back into JSON. A reader revalidating a copy (`If-None-Match`)
names the versions it holds, and for those no document is built at all.

`queries.journey_progress` gives the same view as Python values (for tests and tools); a
test holds the two equal, as one holds `HEALTH_SQL` equal to `health.health`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any
from uuid import UUID

from psycopg import Connection
from psycopg.rows import tuple_row

from projections.queries import HEALTH_SQL

_KEY_RESULT = """json_build_object(
    'id', k.key_result_id, 'title', k.title, 'baseline', k.baseline, 'target', k.target,
    'current', k.current, 'unit', k.unit, 'progress', k.progress, 'confidence', k.confidence,
    'last_observed_on', k.last_observed_on, 'due_on', k.due_on, 'weight', k.weight,
    'status', k.status)"""
_DOCUMENT = f"""json_build_object(
    'id', j.journey_id, 'programme_id', j.programme_id, 'mentor_id', j.mentor_id,
    'mentee_id', j.mentee_id, 'status', j.status, 'health', {HEALTH_SQL},
    'started_on', j.started_on, 'planned_end_on', j.planned_end_on,
    'objective', CASE WHEN j.objective_statement IS NOT NULL THEN json_build_object(
        'statement', j.objective_statement, 'why', j.objective_why) END,
    'key_results', COALESCE((SELECT json_agg({_KEY_RESULT} ORDER BY k.added_position)
                             FROM key_results AS k WHERE k.journey_id = j.journey_id), '[]'),
    'score', j.score,
    'tasks', json_build_object(
        'open', j.tasks_open, 'done', j.tasks_done, 'dropped', j.tasks_dropped,
        'overdue', (SELECT count(*) FROM tasks AS t WHERE t.journey_id = j.journey_id
                    AND t.status = 'open' AND t.due_on < %(today)s)),
    'open_obstacles', j.open_obstacles, 'meetings_held', j.meetings_held,
    'reviews_held', j.reviews_held, 'last_review_on', j.last_review_on,
    'next_review_due_on', j.next_review_due_on, 'version', j.version, 'position', j.position)"""
_READ = f"""SELECT reached.position, reached.view_version, j.version,
    CASE WHEN j.journey_id IS NULL OR %(any)s OR j.version = ANY(%(held)s::int8[]) THEN NULL
         ELSE {_DOCUMENT}::text END
    FROM (SELECT COALESCE(min(position), 0) AS position,
                 COALESCE(max(version) FILTER (WHERE name = 'journey_progress'), 0)
                     AS view_version
          FROM projection_tracking) AS reached
    LEFT JOIN journey_progress AS j ON j.journey_id = %(id)s"""

# Encoded once: psycopg would encode the text (and hash the bytes to find its parsed form)
# on every read.
_READ_BYTES = _READ.encode()


@dataclass(frozen=True)
class ProgressRead:
    """What one read of a journey's progress view found.

    `version` is None when the view has no such journey (yet). `view_version` is the version
    of the projection that built the view. `document` is the view as JSON text, or None when
    there is no such journey or the reader said it holds `version` already.
    """

    position: int
    view_version: int
    version: int | None
    document: str | None

    @property
    def revision(self) -> str:
        return view_revision(self.view_version)


@cache
def view_revision(view_version: int) -> str:
    """Names a build of the view: the same journey version reads differently under a new
    projection version or a new statement (a field added, a rule of health changed)."""
    return hashlib.sha256(f"{view_version}\n{_READ}".encode()).hexdigest()[:8]


def read_progress(conn: Connection[Any], journey_id: UUID, today: date, *,
                  held_versions: Collection[int] = (), holds_any: bool = False) -> ProgressRead:
    """`held_versions` (or, with `holds_any`, whatever version it is) are versions the
    reader has a copy of from today: no document is built for them."""
    cur = conn.cursor(row_factory=tuple_row)
    row = cur.execute(_READ_BYTES, {"id": journey_id, "today": today, "any": holds_any,
                                    "held": list(held_versions)}).fetchone()
    assert row is not None  # the tracking aggregate always answers one row
    position, view_version, version, document = row
    return ProgressRead(int(position), int(view_version), version, document)
