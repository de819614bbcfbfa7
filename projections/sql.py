"""Set-based writes shared by the projections.

A batch's rows reach PostgreSQL through binary COPY (encoded in C by psycopg), straight into
insert-only tables, or through a session-local staging table merged with one
`INSERT … ON CONFLICT` for upserts. A batch of hundreds of events thus costs a handful
of round trips — what lets a million-event rebuild fit in its time budget.
"""

from __future__ import annotations

import hashlib
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

    The staging table is named after `staged` (else the table) and the columns it holds: a
    session's temporary tables are not per schema, and tables of the same name may live in
    several (the analyst schema's `key_results`, a live table and its rebuilt shadow).
    """
    if not rows:
        return
    names = tuple(name for name, _ in columns)
    target = _staged_name(staged or table, tuple(columns)) if key else table
    if key:
        cursor.execute(_staging(target, tuple(columns)))
    with cursor.copy(_copy(target, names)) as copy:
        copy.set_types([pg_type for _, pg_type in columns])
        for row in rows:
            copy.write_row(row)
    if key:
        cursor.execute(_merge(table, target, names, tuple(key)))


@cache
def _staged_name(table: str, columns: tuple[Column, ...]) -> str:
    """Named after the columns it holds, not modelled on a table: which table an unqualified
    name means depends on `search_path`, and a rebuilt shadow's columns may differ."""
    digest = hashlib.blake2b(repr(columns).encode(), digest_size=4).hexdigest()
    return f"{table}_staged_{digest}"


@cache
def _staging(staged: str, columns: tuple[Column, ...]) -> sql.Composed:
    """Lives as long as the session; emptied at every commit."""
    return sql.SQL(
        "CREATE TEMP TABLE IF NOT EXISTS {staged} ({columns}) ON COMMIT DELETE ROWS"
    ).format(staged=sql.Identifier(staged), columns=sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(pg_type))
        for name, pg_type in columns))


@cache
def _copy(table: str, names: tuple[str, ...]) -> sql.Composed:
    return sql.SQL("COPY {table} ({names}) FROM STDIN (FORMAT BINARY)").format(
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
