"""Security headers on every response.

API answers are data, never pages: nothing may run, frame or cache them. The docs UI is the
one HTML page; its policy allows only this origin's scripts and styles, plus its own inline
start-up script by hash (computed from the page served, so it cannot drift from it). A dozen
fixed headers need no library; flask-talisman would also redirect to HTTPS, which is the
TLS-terminating proxy's job here.
"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Response, request

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_POLICY = ("default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
               "base-uri 'none'; form-action 'none'")
DOCS_ASSETS = "/v1/docs/assets/"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


# What every API answer gets: added in one go, since nothing before sets any of them (setting
# them one by one would search the headers for each, case-insensitively, on every request).
API_HEADERS = [*COMMON.items(), ("Content-Security-Policy", API_POLICY),
               ("Cache-Control", "no-store")]


def add_security_headers(response: Response) -> Response:
    if response.mimetype == "text/html" or request.path.startswith(DOCS_ASSETS):
        _add_docs_headers(response)
    else:
        response.headers.extend(API_HEADERS)
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def _add_docs_headers(response: Response) -> None:
    """The docs UI's page and assets: its own policy, and assets cached for a day (they are
    sent with a `Cache-Control` of their own, which this replaces)."""
    response.headers.update(COMMON)
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = _docs_policy(response)
    else:
        response.headers["Content-Security-Policy"] = API_POLICY
    if request.path.startswith(DOCS_ASSETS):
        response.headers["Cache-Control"] = "public, max-age=86400"
    else:
        response.headers["Cache-Control"] = "no-store"


def _docs_policy(response: Response) -> str:
    if response.direct_passthrough:
        return DOCS_POLICY.format(hashes="")
    page = response.get_data(as_text=True)
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page))
    return DOCS_POLICY.format(hashes=hashes)
