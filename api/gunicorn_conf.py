"""gunicorn settings for production (`make serve`, `gunicorn -c python:api.gunicorn_conf`).

The app is built in each worker after fork (`create_app()` opens no connection before its first
request), so every worker has its own `Application` and connection pools. Command-line flags
given to gunicorn override these values (benchmarks and drills pass --workers and --bind).
"""

from __future__ import annotations

import os

from infra.settings import Settings

_settings = Settings.from_env()

wsgi_app = "api:create_app()"
bind = f"127.0.0.1:{_settings.port}"
worker_class = "gthread"
workers = (os.cpu_count() or 1) + 1
threads = 4
preload_app = False
keepalive = 75  # longer than a load balancer's idle timeout, so it closes first
timeout = 30
graceful_timeout = 20
