"""Set-based writes shared by the projections.

A batch's rows reach PostgreSQL through binary COPY (encoded in C by psycopg), straight into
insert-only tables, or through a session-local staging table merged with one
`INSERT … ON CONFLICT` for upserts. A batch of hundreds of events thus costs a handful
of round trips — what lets a million-event rebuild fit in its time budget.

A live projector's batches hold a few rows, for which staging and COPY would be most of the
cost (four round trips per table): up to `FEW_ROWS` rows go as one pipelined `executemany`
of the same `INSERT … ON CONFLICT`, one round trip — or none of its own on a connection in
pipeline mode (where COPY is not allowed), whatever the number of rows.

Every statement is composed once, as bytes: psycopg would otherwise compose an
`sql.Composed` again on each execution.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache
from typing import Any

from psycopg import Cursor, sql
from psycopg.types.json import Jsonb

Column = tuple[str, str]  # (name, PostgreSQL type)
FEW_ROWS = 64


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
    if len(rows) <= FEW_ROWS or cursor.connection.pgconn.pipeline_status:  # no COPY there
        json_columns = [i for i, (_, pg_type) in enumerate(columns) if pg_type == "jsonb"]
        if json_columns:
            rows = [_with_jsonb(row, json_columns) for row in rows]
        cursor.executemany(_insert(table, tuple(columns), tuple(key)), rows)
        return
    target = _staged_name(staged or table, tuple(columns)) if key else table
    if key:
        cursor.execute(_staging(target, tuple(columns)))
    with cursor.copy(_copy(target, names)) as copy:
        copy.set_types([pg_type for _, pg_type in columns])
        for row in rows:
            copy.write_row(row)
    if key:
        cursor.execute(_merge(table, target, names, tuple(key)))


def _with_jsonb(row: Sequence[Any], json_columns: Sequence[int]) -> list[Any]:
    values = list(row)
    for index in json_columns:
        if values[index] is not None:
            values[index] = Jsonb(values[index])
    return values


@cache
def _insert(table: str, columns: tuple[Column, ...], key: tuple[str, ...]) -> bytes:
    """One row's `INSERT`, each value cast to its column's type; with a key, an upsert."""
    names = [name for name, _ in columns]
    statement = sql.SQL("INSERT INTO {table} ({names}) VALUES ({values})").format(
        table=sql.Identifier(table), names=sql.SQL(", ").join(map(sql.Identifier, names)),
        values=sql.SQL(", ").join(sql.SQL("%s::{}").format(sql.SQL(pg_type))
                                  for _, pg_type in columns))
    if key:
        statement += _on_conflict(tuple(names), key)
    return statement.as_bytes()


def _on_conflict(names: tuple[str, ...], key: tuple[str, ...]) -> sql.Composed:
    updates = [sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(n))
               for n in names if n not in key]
    return sql.SQL(" ON CONFLICT ({key}) DO UPDATE SET {updates}").format(
        key=sql.SQL(", ").join(map(sql.Identifier, key)), updates=sql.SQL(", ").join(updates))


@cache
def _staged_name(table: str, columns: tuple[Column, ...]) -> str:
    """Named after the columns it holds, not modelled on a table: which table an unqualified
    name means depends on `search_path`, and a rebuilt shadow's columns may differ."""
    digest = hashlib.blake2b(repr(columns).encode(), digest_size=4).hexdigest()
    return f"{table}_staged_{digest}"


@cache
def _staging(staged: str, columns: tuple[Column, ...]) -> bytes:
    """Lives as long as the session; emptied at every commit."""
    return sql.SQL(
        "CREATE TEMP TABLE IF NOT EXISTS {staged} ({columns}) ON COMMIT DELETE ROWS"
    ).format(staged=sql.Identifier(staged), columns=sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(pg_type))
        for name, pg_type in columns)).as_bytes()


@cache
def _copy(table: str, names: tuple[str, ...]) -> bytes:
    return sql.SQL("COPY {table} ({names}) FROM STDIN (FORMAT BINARY)").format(
        table=sql.Identifier(table),
        names=sql.SQL(", ").join(map(sql.Identifier, names))).as_bytes()


@cache
def _merge(table: str, staged: str, names: tuple[str, ...], key: tuple[str, ...]) -> bytes:
    columns = sql.SQL(", ").join(map(sql.Identifier, names))
    return (sql.SQL("INSERT INTO {table} ({columns}) SELECT {columns} FROM {staged}").format(
        table=sql.Identifier(table), columns=columns, staged=sql.Identifier(staged))
        + _on_conflict(names, key)).as_bytes()
