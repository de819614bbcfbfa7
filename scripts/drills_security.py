"""Security and integrity drills behind `make drill`, each printing
`drill: <name> passed|FAILED <detail>`.

concurrent-writers: eight clients write to one journey at once through gunicorn (two worker
processes, four threads each); every acknowledged write must be stored exactly once and every
refusal must be a 409 or 412 that stored nothing (scripts/concurrent_writers.py).

The drill runs on a scratch database: created on the server of DATABASE_URL when it is set
(and dropped afterwards), else on an embedded PostgreSQL in a temporary directory.
"""

from __future__ import annotations

import secrets
import sys

from infra.settings import Settings
from scripts.concurrent_writers import concurrent_writers
from scripts.scratch import scratch_database
from scripts.served import api_server


def main() -> int:
    secret = secrets.token_urlsafe(32)
    with scratch_database(Settings.from_env(), "mj_drill") as url, \
            api_server(url, secret) as base_url:
        outcome = concurrent_writers(base_url, secret)
    print(f"drill: concurrent-writers {'passed' if outcome.passed else 'FAILED'} "
          f"{outcome.detail}", flush=True)
    return 0 if outcome.passed else 1


if __name__ == "__main__":
    sys.exit(main())
