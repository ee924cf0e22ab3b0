"""The start page, the clinic switcher, the dashboard and the 400, 403 (CSRF), 404 and 500
handlers."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.views import csrf, defaults

from clinics import selectors
from clinics.api.errors import error_body
from clinics.dashboard import dashboard_summary


def _answers_json(request) -> bool:
    """The API and the webhooks answer every error in the API's JSON error shape."""
    return request.path.startswith(("/api/", "/webhooks/"))


def bad_request(request, exception=None):
    """400: what Django refuses before a view can (a body over DATA_UPLOAD_MAX_MEMORY_SIZE
    answers 413 there, too many fields, a bad Host). Pages keep Django's own answer."""
    if not _answers_json(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        detail = (
            "The request body is too large: send at most "
            f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes."
        )
        body = error_body(status_code=413, code="too_large", detail=detail)
        return JsonResponse(body, status=413)
    return JsonResponse(
        error_body(status_code=400, code="bad_request", detail="The request could not be read."),
        status=400,
    )


def csrf_failure(request, reason: str = ""):
    """403 for a missing or wrong CSRF token; under /api/ in the error shape."""
    if not _answers_json(request):
        return csrf.csrf_failure(request, reason)
    detail = f"The CSRF check failed: {reason or 'no valid token.'}"
    return JsonResponse(error_body(status_code=403, code="csrf_failed", detail=detail), status=403)


def not_found(request, exception=None):
    if _answers_json(request):
        return JsonResponse(
            error_body(status_code=404, code="not_found", detail="Not found."), status=404
        )
    return render(request, "404.html", status=404)


def server_error(request):
    """500: the API and the webhooks keep the JSON error shape; pages get a template that needs
    no context."""
    if _answers_json(request):
        return JsonResponse(
            error_body(
                status_code=500,
                code="server_error",
                detail="Something went wrong on our side. It has been logged; please try again.",
                type_="server_error",
            ),
            status=500,
        )
    return HttpResponse(loader.get_template("500.html").render(), status=500)


@login_required
def home(request):
    return redirect("clinic-switch")


@login_required
def clinic_switch(request):
    memberships = selectors.user_memberships(request.user)
    if len(memberships) == 1 and "stay" not in request.GET:
        return redirect("dashboard", clinic_slug=memberships[0].clinic.slug)
    return render(request, "clinics/switch.html", {"memberships": memberships})


def dashboard(request) -> HttpResponse:
    summary = dashboard_summary(request.clinic, request.membership)
    return render(request, "clinics/dashboard.html", {"summary": summary})
