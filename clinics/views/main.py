"""The start page, the clinic switcher, the dashboard and the 404 and 500 handlers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader

from clinics import selectors
from clinics.api.errors import error_body
from clinics.dashboard import dashboard_summary


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body(status_code=404, code="not_found", detail="Not found."), status=404
        )
    return render(request, "404.html", status=404)


def server_error(request):
    """500: the API keeps its JSON error shape; pages get a template that needs no context."""
    if request.path.startswith("/api/"):
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
