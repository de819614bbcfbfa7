"""projections.sql: a few rows (one pipelined INSERT each) and many (binary COPY, staged for
upserts) must leave a table in exactly the same state."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import psycopg
import pytest

from projections.sql import FEW_ROWS, write_rows

COLUMNS = (("id", "uuid"), ("title", "text"), ("score", "float8"), ("due_on", "date"),
           ("labels", "text[]"), ("detail", "jsonb"), ("count", "int4"))
CREATE = """CREATE TABLE things (id uuid PRIMARY KEY, title text NOT NULL, score float8,
    due_on date, labels text[] NOT NULL, detail jsonb, count int4 NOT NULL)"""


def rows(count: int, *, revision: int = 0) -> list[tuple[Any, ...]]:
    return [(UUID(int=n), f"thing {n} r{revision}", n / 4 if n % 3 else None,
             date(2026, 1, 1 + n % 28) if n % 2 else None, ["a", f"b{n}"],
             {"n": n, "text": "x", "revision": revision} if n % 5 else None, n + revision)
            for n in range(count)]


def table(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    return conn.execute("SELECT * FROM things ORDER BY id").fetchall()


@pytest.mark.parametrize("count", [2, FEW_ROWS, FEW_ROWS + 1, 500])
def test_inserts_and_upserts_leave_the_rows_written(database_url: str, count: int) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(CREATE)
        with conn.cursor() as cur:
            write_rows(cur, "things", COLUMNS, rows(count))
        assert table(conn) == [tuple(row) for row in rows(count)]
        with conn.cursor() as cur:
            write_rows(cur, "things", COLUMNS, rows(count, revision=1), key=("id",))
        assert table(conn) == [tuple(row) for row in rows(count, revision=1)]
        detail = conn.execute("SELECT detail FROM things WHERE id = %s", (UUID(int=1),))
        assert detail.fetchone() == ({"n": 1, "text": "x", "revision": 1},)
