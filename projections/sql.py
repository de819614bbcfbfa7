"""Set-based writes shared by the projections.

A batch's rows reach PostgreSQL through COPY (encoded in C by psycopg), straight into
insert-only tables, or through a session-local staging table merged with one
`INSERT … ON CONFLICT` for upserts. A batch of hundreds of events thus costs a handful
of round trips — what lets a million-event rebuild fit in its time budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from psycopg import Cursor, sql

Column = tuple[str, str]  # (name, PostgreSQL type)


def write_rows(
    cursor: Cursor[Any],
    table: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    *,
    key: Sequence[str] = (),
    staged: str | None = None,
) -> None:
    """Insert rows; with a `key`, rows already there are overwritten (an upsert).

    The staging table is named `<table>_staged` unless `staged` names it: a projection whose
    tables share names with another schema's (the analyst schema's `key_results`) needs its
    own, since a session's temporary tables are not per schema.
    """
    if not rows:
        return
    names = tuple(name for name, _ in columns)
    target = (staged or f"{table}_staged") if key else table
    if key:
        cursor.execute(_staging(table, target))
    with cursor.copy(_copy(target, names)) as copy:
        copy.set_types([pg_type for _, pg_type in columns])
        for row in rows:
            copy.write_row(row)
    if key:
        cursor.execute(_merge(table, target, names, tuple(key)))


@cache
def _staging(table: str, staged: str) -> sql.Composed:
    """Lives as long as the session; emptied at every commit."""
    return sql.SQL(
        "CREATE TEMP TABLE IF NOT EXISTS {staged} (LIKE {table}) ON COMMIT DELETE ROWS"
    ).format(staged=sql.Identifier(staged), table=sql.Identifier(table))


@cache
def _copy(table: str, names: tuple[str, ...]) -> sql.Composed:
    return sql.SQL("COPY {table} ({names}) FROM STDIN").format(
        table=sql.Identifier(table), names=sql.SQL(", ").join(map(sql.Identifier, names)))


@cache
def _merge(table: str, staged: str, names: tuple[str, ...], key: tuple[str, ...]) -> sql.Composed:
    columns = sql.SQL(", ").join(map(sql.Identifier, names))
    updates = [sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(n))
               for n in names if n not in key]
    return sql.SQL(
        "INSERT INTO {table} ({columns}) SELECT {columns} FROM {staged}"
        " ON CONFLICT ({key}) DO UPDATE SET {updates}"
    ).format(table=sql.Identifier(table), columns=columns, staged=sql.Identifier(staged),
             key=sql.SQL(", ").join(map(sql.Identifier, key)),
             updates=sql.SQL(", ").join(updates))
