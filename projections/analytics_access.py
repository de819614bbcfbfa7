"""Who may read the analyst schema, and taking its tables out as CSV.

An analyst role logs in and reads `analytics` and nothing else: no other schema's tables (the
journeys' words and real person ids live there), no writes, no new objects. Its transactions
are read-only by default as a second fence.
"""

from __future__ import annotations

from typing import IO, Any

from psycopg import Connection, sql

from projections.analytics import ANALYTICS_SCHEMA
from projections.analytics_tables import TABLES

_POWERS = """SELECT r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolname = current_user
        OR EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid)
        OR EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspowner = r.oid) AS powerful
    FROM pg_roles r WHERE r.rolname = %s"""


class RoleRefused(Exception):
    """The role exists with powers an analyst must not have; it is left untouched."""


def create_analyst_role(conn: Connection[Any], name: str, password: str) -> bool:
    """Creates the login role, or sets its password if it is already an analyst-like role.

    Answers whether the role was created. Refuses roles that can do more than read (superusers,
    role or database creators, owners of tables or schemas here, the role we are connected
    as), since turning one of them into an analyst would change the password of someone
    else's account.
    """
    role, schema = sql.Identifier(name), sql.Identifier(ANALYTICS_SCHEMA)
    existing = conn.execute(_POWERS, (name,)).fetchone()
    if existing is not None and _first(existing):
        raise RoleRefused(f"role {name} can do more than read; choose another name")
    verb = "CREATE" if existing is None else "ALTER"
    conn.execute(sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"
                         " PASSWORD {}").format(role, sql.Literal(password)))
    conn.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(role))
    database = _first(conn.execute("SELECT current_database()").fetchone())
    conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
        sql.Identifier(database), role))
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, role))
    conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(schema, role))
    return existing is None


def export_csv(conn: Connection[Any], table: str, out: IO[bytes]) -> None:
    """The whole table with a header row, in primary-key order so exports compare."""
    if table not in TABLES:
        raise ValueError(f"the analyst schema has no table {table}")
    _, key = TABLES[table]
    query = sql.SQL("COPY (SELECT * FROM {}.{} ORDER BY {}) TO STDOUT WITH (FORMAT csv, HEADER)"
                    ).format(sql.Identifier(ANALYTICS_SCHEMA), sql.Identifier(table),
                             sql.SQL(", ").join(map(sql.Identifier, key)))
    conn.execute("SET LOCAL TIME ZONE 'UTC'")
    with conn.cursor() as cursor, cursor.copy(query) as copy:
        for block in copy:
            out.write(block)


def _first(row: Any) -> Any:
    """The first column of a row, whatever the connection's row factory."""
    assert row is not None
    return next(iter(row.values())) if isinstance(row, dict) else row[0]
