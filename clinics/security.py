"""Security headers Django 5.2 does not set itself.

The Content-Security-Policy allows only this site's own scripts, styles, fonts and images, so no
page can load a third-party script, font or tracker even by mistake. The API docs pages
(Swagger UI and ReDoc, served from the app's own static files) start themselves with an inline
script, so only those two pages also allow inline scripts.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

BASE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}
DOCS_PATHS = ("/api/docs/", "/api/redoc/")


def _policy(**overrides: str) -> str:
    return "; ".join(f"{k} {v}" for k, v in {**BASE_POLICY, **overrides}.items())


STRICT = _policy()
DOCS = _policy(**{"script-src": "'self' 'unsafe-inline'", "worker-src": "'self' blob:"})
PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        docs = request.path_info.startswith(DOCS_PATHS)
        response.headers.setdefault("Content-Security-Policy", DOCS if docs else STRICT)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
