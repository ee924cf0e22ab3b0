"""Request plumbing: who is acting (for the audit trail) and which clinic's scope a view runs in."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from clinics.actors import access_for_member
from clinics.context import actor_context, enter_context, leave_context
from clinics.guards import SAFE_METHODS, write_refusal
from clinics.selectors import membership_for
from clinics.tenancy import clinic_scope


def client_ip(request: HttpRequest) -> str | None:
    """The client's address; behind PROXY_COUNT trusted proxies, taken from X-Forwarded-For."""
    proxies = getattr(settings, "AXES_IPWARE_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    """Sets the actor context (address, user agent, channel) that audit events record."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.count_queries = settings.QUERY_COUNT_HEADER

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        via = (
            "api" if path.startswith("/api/") else "admin" if path.startswith("/admin/") else "web"
        )
        with actor_context(
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
            via=via,
        ):
            if not self.count_queries:
                return self.get_response(request)
            counter = _QueryCounter()
            started = time.perf_counter()
            with connection.execute_wrapper(counter):
                response = self.get_response(request)
            response["X-Query-Count"] = str(counter.count)
            response["X-Server-Time-Ms"] = f"{(time.perf_counter() - started) * 1000:.2f}"
            return response


class _QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class ClinicScopeMiddleware:
    """Runs every view under `/c/<clinic_slug>/` inside that clinic's scope.

    It checks the signed-in user's active membership first: someone who is not a member gets
    404 (the clinic's existence is not confirmed). It also enforces the clinic's two-factor
    requirement. Views find `request.clinic`, `request.membership` and `request.access` (the
    member's resolved access, also in the actor context for services); the slug is not passed on.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        slug = view_kwargs.pop("clinic_slug", None)
        if slug is None:
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = membership_for(request.user, slug)
        if membership is None:
            raise Http404("No such clinic")
        clinic = membership.clinic
        if clinic.require_two_factor and not request.user.is_verified():
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('two-factor-setup')}?{query}")
        request.clinic = clinic
        request.membership = membership
        request.access = access_for_member(membership, request.user)
        if request.session.get("last_clinic") != slug:
            # Only on a switch: assigning marks the session changed, and the session middleware
            # would then write it back to the database on every page view.
            request.session["last_clinic"] = slug
        token = enter_context(access=request.access)
        try:
            with clinic_scope(clinic):
                refused = _write_refused(request)
                if refused is not None:
                    return refused
                response = view_func(request, *view_args, **view_kwargs)
                # Templates may read lazy querysets: render while the scope is still active.
                if hasattr(response, "render") and callable(response.render):
                    response = response.render()
        finally:
            leave_context(token)
        return response


def _write_refused(request: HttpRequest) -> HttpResponse | None:
    """A write while the clinic is read-only (`clinics.guards`: a subscription's grace period
    ran out) is refused with the reason; reading and exporting go on."""
    if request.method in SAFE_METHODS:
        return None
    match = request.resolver_match
    reason = write_refusal(request.clinic.pk, url_name=match.url_name if match else "")
    if reason is None:
        return None
    return render(request, "clinics/read_only.html", {"reason": reason}, status=403)
