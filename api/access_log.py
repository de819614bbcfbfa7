"""gunicorn's access log as one JSON object per line (api/gunicorn_conf.py uses it).

Log pipelines parse JSON without a grammar per server; gunicorn's own `access_log_format` is a
printf template, and a path or user agent holding a quote would break JSON written through it.
Nothing secret is logged: no `Authorization`, no body, no cookie.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from gunicorn.glogging import Logger


class JsonAccessLogger(Logger):
    def access(self, resp: Any, req: Any, environ: dict[str, Any],
               request_time: timedelta) -> None:
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.logconfig_dict):
            return
        try:
            self.access_log.info(access_line(resp, environ, request_time))
        except Exception:
            self.exception("could not write an access log line")


def access_line(resp: Any, environ: dict[str, Any], request_time: timedelta) -> str:
    """One request: when it ended (UTC), who asked for what, the answer and how long it took."""
    status = resp.status
    sent = getattr(resp, "sent", None)
    return json.dumps({
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "remote_addr": environ.get("REMOTE_ADDR"),
        "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
        "method": environ.get("REQUEST_METHOD"),
        "path": environ.get("PATH_INFO"),
        "query": environ.get("QUERY_STRING") or None,
        "status": int(str(status).split(None, 1)[0]),
        "bytes": sent,
        "duration_ms": round(request_time.total_seconds() * 1000, 3),
        "user_agent": environ.get("HTTP_USER_AGENT"),
        "request_id": environ.get("HTTP_X_REQUEST_ID"),
    }, ensure_ascii=True, separators=(",", ":"))
