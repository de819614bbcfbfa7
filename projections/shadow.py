"""Where a projection's tables live, and how a rebuilt set replaces the live one.

Projections name their tables unqualified; the projector points `search_path` at the
projection's home schema for a live batch, or at its shadow schema (`rebuild_<name>`) while
rebuilding, so the same code writes either set. The swap moves the shadow tables into the
home schema inside one transaction: readers see the old complete view until it commits and
the new complete view after, never a half-built one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from psycopg import Cursor, sql
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool


class Placed(Protocol):
    """What this module needs to know of a projection."""

    name: str

    @property
    def tables(self) -> tuple[str, ...]: ...

    @property
    def schema(self) -> str: ...


def shadow_schema(projection: Placed) -> str:
    return f"rebuild_{projection.name}"


def home_schema(projection: Placed) -> str:
    return projection.schema


@contextmanager
def transaction(pool: ConnectionPool[Any]) -> Iterator[Cursor[Any]]:
    """A transaction for projection code, without server-side prepared statements: psycopg
    prepares a query by its text, and under another `search_path` the same text names other
    tables (`reviews` here, `analytics.reviews` there) — PostgreSQL would refuse the plan."""
    with pool.connection() as conn:
        threshold, conn.prepare_threshold = conn.prepare_threshold, None
        try:
            with conn.transaction(), conn.cursor() as cursor:
                yield cursor
        finally:
            conn.prepare_threshold = threshold


def write_into(cursor: Cursor[Any], schema: str) -> None:
    """Unqualified names in this transaction now mean `schema`'s tables (then public's)."""
    cursor.execute(sql.SQL("SET LOCAL search_path TO {}, public").format(sql.Identifier(schema)))


def create_home(cursor: Cursor[Any], projection: Any) -> None:
    schema = home_schema(projection)
    exists = cursor.connection.cursor(row_factory=tuple_row).execute(
        "SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    if not exists:  # asked only then: CREATE SCHEMA needs a privilege the app may lack
        cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    write_into(cursor, schema)
    projection.create_tables(cursor)
    cursor.execute("SET LOCAL search_path TO DEFAULT")


def prepare(cursor: Cursor[Any], projection: Any) -> None:
    """An empty shadow schema with the projection's tables, whatever a crash left there."""
    schema = sql.Identifier(shadow_schema(projection))
    cursor.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(schema))
    cursor.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
    write_into(cursor, shadow_schema(projection))
    projection.create_tables(cursor)
    cursor.execute("SET LOCAL search_path TO DEFAULT")
    created = set(_tables_in(cursor, shadow_schema(projection)))
    if created != set(projection.tables):
        raise RuntimeError(f"projection {projection.name} declares tables "
                           f"{sorted(projection.tables)} but creates {sorted(created)}")


def swap(cursor: Cursor[Any], projection: Placed) -> None:
    """Drop the live tables (and views built on them) and move the rebuilt ones in."""
    home, shadow = sql.Identifier(home_schema(projection)), sql.Identifier(
        shadow_schema(projection))
    for table in projection.tables:
        cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}.{} CASCADE").format(
            home, sql.Identifier(table)))
    for table in projection.tables:
        cursor.execute(sql.SQL("ALTER TABLE {}.{} SET SCHEMA {}").format(
            shadow, sql.Identifier(table), home))
    cursor.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(shadow))


def _tables_in(cursor: Cursor[Any], schema: str) -> list[str]:
    cur = cursor.connection.cursor(row_factory=tuple_row)
    rows = cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))
    return [row[0] for row in rows.fetchall()]
