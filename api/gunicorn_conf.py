"""gunicorn settings for production (`make serve`, `gunicorn -c python:api.gunicorn_conf`).

The app is built in each worker after fork (`create_app()` opens no connection before its first
request), so every worker has its own `Application` and connection pools. Command-line flags
given to gunicorn override these values (benchmarks and drills pass --workers and --bind).
Values come from `infra.settings` (PORT, JOURNEYS_BIND_HOST, WEB_CONCURRENCY,
JOURNEYS_WEB_THREADS, JOURNEYS_LOG_LEVEL).
"""

from __future__ import annotations

import os
from typing import Any

from infra.settings import Settings

_settings = Settings.from_env()

wsgi_app = "api:create_app()"
bind = f"{_settings.bind_host}:{_settings.port}"
worker_class = "gthread"
# Threads overlap the waits on PostgreSQL; processes use the CPUs this process may run on.
workers = _settings.web_workers or len(os.sched_getaffinity(0)) + 1
threads = _settings.web_threads
preload_app = False
# The workers' heartbeat files: on a RAM disk a slow or full disk cannot stall them.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
keepalive = 75  # longer than a load balancer's idle timeout, so it closes first
# No request runs this long (database waits are bounded in infra/database.py): a worker that
# does is stuck and is replaced. On SIGTERM, requests in flight get graceful_timeout to finish.
timeout = 30
graceful_timeout = 20

# gunicorn ≥ 25's control socket sits at one path per user ($HOME/.gunicorn/gunicorn.ctl), so
# every instance on a host would fight over it; signals do what we need (older versions ignore
# the setting).
control_socket_disable = True

accesslog = "-"  # standard output, one JSON object per request (api/access_log.py)
logger_class = "api.access_log.JsonAccessLogger"
errorlog = "-"  # standard error, with the application's own log
loglevel = _settings.log_level.lower()


def worker_exit(server: Any, worker: Any) -> None:
    """Close the worker's connection pools, so PostgreSQL sees sessions end, not vanish."""
    app = getattr(worker, "wsgi", None)
    services = getattr(app, "extensions", {}).get("mentoring_journeys")
    if services is not None:
        services.close()
