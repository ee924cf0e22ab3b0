"""Signing a visit (it is frozen then) and amending a signed one (a new version)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.roles import Perm
from clinics.web import add_domain_error
from patients import services
from patients.forms_visits import AmendForm, SignForm, error_messages
from patients.models import Visit
from patients.selectors.visit_pages import visit_page
from patients.views.visits.page import for_visit, page_context, render_visit_page, visit_url


@require_perm(Perm.CLINICAL_EDIT)
@for_visit("GET", "POST")
def visit_sign(request: HttpRequest, visit: Visit) -> HttpResponse:
    """A confirmation page first; signing needs the confirmed form. A signed visit is
    frozen: corrections are new versions."""
    error = ""
    if request.method == "POST":
        form = SignForm(request.POST)
        if form.is_valid() and form.cleaned_data["confirm"]:
            try:
                services.visit_sign(
                    visit=visit, actor=request.user, actor_membership=request.membership
                )
            except DomainError as exc:
                error = exc.message
            else:
                messages.success(
                    request,
                    "Signed. The visit and its prescription are locked now; "
                    "to correct anything, amend the visit.",
                )
                return redirect(visit_url(request, visit.pk))
    page = visit_page(visit_id=visit.pk)
    context = page_context(request, page)
    context["error"] = error
    return render(
        request, "patients/visits/sign_confirm.html", context, status=400 if error else 200
    )


@require_perm(Perm.CLINICAL_EDIT)
@for_visit("POST")
def visit_amend(request: HttpRequest, visit: Visit) -> HttpResponse:
    form = AmendForm(request.POST)
    if form.is_valid():
        try:
            amendment = services.visit_amend(
                visit=visit,
                actor=request.user,
                actor_membership=request.membership,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                f"Version {amendment.version} is open for your correction. Version "
                f"{visit.version} stays as signed until you sign this one.",
            )
            return redirect(visit_url(request, amendment.pk))
    retry = AmendForm(initial={"reason": request.POST.get("reason", "")})
    return render_visit_page(
        request,
        visit.pk,
        forms={"amend": retry},
        page_errors=error_messages(form),
        status=400,
    )
