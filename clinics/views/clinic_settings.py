"""Clinic settings and the clinic's API keys."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from clinics import selectors, services
from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.forms import (
    ApiKeyForm,
    ClinicSettingsForm,
)
from clinics.models import ApiKey
from clinics.roles import Perm
from clinics.web import Confirmation, add_domain_error, confirmation_page

# ---------------------------------------------------------------------------------------------
# Clinic settings


@require_perm(Perm.SETTINGS_EDIT)
@require_http_methods(["GET", "POST"])
def clinic_settings(request) -> HttpResponse:
    clinic = request.clinic
    initial = {field: getattr(clinic, field) for field in services.CLINIC_EDITABLE_FIELDS}
    form = ClinicSettingsForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.clinic_update(clinic=clinic, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "Clinic settings saved.")
            return redirect("clinic-settings", clinic_slug=clinic.slug)
    return render(
        request,
        "clinics/settings.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


# ---------------------------------------------------------------------------------------------
# API keys


def _api_keys_page(request, form: ApiKeyForm | None = None, status: int = 200) -> HttpResponse:
    context = {"keys": selectors.api_keys(), "form": form or ApiKeyForm()}
    return render(request, "clinics/api_keys.html", context, status=status)


@require_perm(Perm.API_KEYS_MANAGE)
def api_key_list(request) -> HttpResponse:
    return _api_keys_page(request)


@require_perm(Perm.API_KEYS_MANAGE)
@require_POST
@never_cache
def api_key_create(request) -> HttpResponse:
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            key, token = services.api_key_create(
                clinic=request.clinic, actor=request.user, **form.cleaned_data
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            # Rendered, not redirected: the token exists only in this response.
            return render(request, "clinics/api_key_created.html", {"key": key, "token": token})
    return _api_keys_page(request, form, status=400)


@require_perm(Perm.API_KEYS_MANAGE)
def api_key_revoke_confirm(request, api_key_id: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=api_key_id, revoked_at__isnull=True)
    return confirmation_page(
        request,
        Confirmation(
            title=f"Revoke the key {key.name}?",
            consequences=[
                f"Every system that uses the key starting {key.prefix} stops reaching this "
                "clinic's data at once.",
                "A revoked key cannot be turned back on: the system would need a new key.",
            ],
            button="Revoke the key",
            action=reverse("api-key-revoke", args=[request.clinic.slug, key.pk]),
            cancel_url=reverse("api-key-list", args=[request.clinic.slug]),
        ),
    )


@require_perm(Perm.API_KEYS_MANAGE)
@require_POST
def api_key_revoke(request, api_key_id: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=api_key_id)
    services.api_key_revoke(key=key, actor=request.user)
    messages.success(request, f"The key {key.name} was revoked. It no longer works.")
    return redirect("api-key-list", clinic_slug=request.clinic.slug)
