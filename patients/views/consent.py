"""Consent pages: the clinic's consent forms (templates with versions), signing a form on a
tablet, a patient's signed consents, one signed consent with its PDF, and withdrawing it.

Who may do what: doctors and owners write the forms (clinical.edit; the service also accepts
settings.edit); whoever may draft clinical notes (assistants too) records a signature as its
witness, and records a withdrawal; clinical.view reads signed consents. Front desk and billing
never reach these pages. Every object is looked up before anything else, so another clinic's
form or consent answers 404.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.roles import Perm
from clinics.web import add_domain_error
from patients.forms_consent import ConsentSignForm, ConsentTemplateForm, WithdrawForm
from patients.models import ConsentTemplate, ConsentTemplateVersion, Patient, SignedConsent
from patients.selectors import patient_detail
from patients.selectors.consent import (
    active_templates,
    consent_page,
    consent_templates,
    current_version,
    patient_consents,
    signature_data_uri,
    signer_label,
    template_versions,
)
from patients.services.consent import consent_sign, consent_withdraw
from patients.services.consent_templates import (
    STANDARD_TEMPLATES,
    consent_template_deactivate,
    consent_template_reactivate,
    consent_template_save,
    consent_templates_add_standard,
)

PAGES = "patients/consent"


def _lookup(getter, *methods: str):
    """Give the view the object `getter(**kwargs)` finds (404 when it finds none, which is what
    another clinic's id gives), then allow only `methods`."""

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, **kwargs) -> HttpResponse:
            found = getter(**kwargs)
            if found is None:
                raise Http404("Not found")
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            return view(request, found)

        return wrapper

    return decorator


def _patient(*, patient_id: int) -> Patient | None:
    try:
        return patient_detail(patient_id=patient_id)
    except Patient.DoesNotExist:
        return None


def _template(*, consent_template_id: int) -> ConsentTemplate | None:
    return ConsentTemplate.objects.filter(pk=consent_template_id).first()


def _consent(*, consent_id: int) -> SignedConsent | None:
    try:
        return consent_page(consent_id=consent_id)
    except SignedConsent.DoesNotExist:
        return None


# ---------------------------------------------------------------------------------------------
# The clinic's forms


@require_perm(Perm.CLINICAL_EDIT)
@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    templates = list(consent_templates())
    taken = {t.name.casefold() for t in templates}
    missing = [s["name"] for s in STANDARD_TEMPLATES if s["name"].casefold() not in taken]
    return render(
        request,
        f"{PAGES}/templates.html",
        {"templates": templates, "missing_standard": missing},
    )


@require_perm(Perm.CLINICAL_EDIT)
@require_POST
def template_add_standard(request: HttpRequest) -> HttpResponse:
    try:
        added = consent_templates_add_standard(
            clinic=request.clinic, actor=request.user, actor_membership=request.membership
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if added:
            names = ", ".join(t.name for t in added)
            messages.success(request, f"Added {names}. Read them and adapt them to your clinic.")
        else:
            messages.info(request, "The clinic already has every standard form.")
    return redirect("consent-templates", request.clinic.slug)


def _save_template(
    request: HttpRequest, form: ConsentTemplateForm, template: ConsentTemplate | None
) -> ConsentTemplate | None:
    if not form.is_valid():
        return None
    before = current_version(template) if template is not None else None
    try:
        saved = consent_template_save(
            clinic=request.clinic,
            actor=request.user,
            actor_membership=request.membership,
            template=template,
            **form.cleaned_data,
        )
    except DomainError as exc:
        add_domain_error(form, exc)
        return None
    after = current_version(saved)
    if before is None:
        messages.success(request, f"Saved {saved.name}.")
    elif after.pk != before.pk:
        messages.success(
            request,
            f"Saved {saved.name} as version {after.version}. Consents signed earlier keep the "
            f"text of the version that was signed.",
        )
    else:
        messages.success(request, f"Saved {saved.name}. The text did not change.")
    return saved


@require_perm(Perm.CLINICAL_EDIT)
def template_create(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    data = request.POST if request.method == "POST" else None
    form = ConsentTemplateForm(data, initial={"language": "en"})
    if request.method == "POST":
        saved = _save_template(request, form, None)
        if saved is not None:
            return redirect("consent-template-edit", request.clinic.slug, saved.pk)
    return render(
        request,
        f"{PAGES}/template_form.html",
        {"form": form, "template": None},
        status=400 if form.errors else 200,
    )


@require_perm(Perm.CLINICAL_EDIT)
@_lookup(_template, "GET", "POST")
def template_edit(request: HttpRequest, template: ConsentTemplate) -> HttpResponse:
    """Change a form. New text makes a new version; the earlier versions are listed below."""
    if request.method == "POST":
        form = ConsentTemplateForm(request.POST)
        saved = _save_template(request, form, template)
        if saved is not None:
            return redirect("consent-template-edit", request.clinic.slug, saved.pk)
    else:
        form = ConsentTemplateForm.for_template(template, current_version(template))
    context = {"form": form, "template": template, "versions": template_versions(template)}
    return render(
        request, f"{PAGES}/template_form.html", context, status=400 if form.errors else 200
    )


@require_perm(Perm.CLINICAL_EDIT)
@_lookup(_template, "POST")
def template_deactivate(request: HttpRequest, template: ConsentTemplate) -> HttpResponse:
    try:
        consent_template_deactivate(
            template=template, actor=request.user, actor_membership=request.membership
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"{template.name} is no longer offered for signing. Signed consents stay."
        )
    return redirect("consent-template-edit", request.clinic.slug, template.pk)


@require_perm(Perm.CLINICAL_EDIT)
@_lookup(_template, "POST")
def template_reactivate(request: HttpRequest, template: ConsentTemplate) -> HttpResponse:
    try:
        consent_template_reactivate(
            template=template, actor=request.user, actor_membership=request.membership
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{template.name} can be signed again.")
    return redirect("consent-template-edit", request.clinic.slug, template.pk)


# ---------------------------------------------------------------------------------------------
# Signing


def _chosen_template(request: HttpRequest) -> ConsentTemplate | None:
    raw = request.GET.get("template", "")
    if not raw.isdigit():
        return None
    return ConsentTemplate.objects.filter(pk=int(raw)).first()


def _posted_version(raw: str) -> ConsentTemplateVersion | None:
    if not raw.isdigit():
        return None
    return ConsentTemplateVersion.objects.select_related("template").filter(pk=int(raw)).first()


@require_perm(Perm.CLINICAL_DRAFT)
@_lookup(_patient, "GET", "POST")
def consent_sign_view(request: HttpRequest, patient: Patient) -> HttpResponse:
    """The tablet page: choose a form (its current text is shown), fill in what is consented
    to, choose who signs, and sign on the pad."""
    template = version = None
    form = None
    status = 200
    if request.method == "POST":
        form = ConsentSignForm(request.POST)
        version = _posted_version(request.POST.get("template_version", ""))
        template = version.template if version is not None else None
        if form.is_valid():
            if version is None:
                form.add_error(None, "Choose the consent form to sign.")
            else:
                try:
                    consent = consent_sign(
                        patient=patient,
                        template_version=version,
                        details=form.cleaned_data["details"],
                        signer_kind=form.cleaned_data["signer_kind"],
                        signer_name=form.cleaned_data["signer_name"],
                        signer_relation=form.cleaned_data["signer_relation"],
                        signature_data_url=form.cleaned_data["signature"],
                        actor=request.user,
                        actor_membership=request.membership,
                    )
                except DomainError as exc:
                    add_domain_error(form, exc)
                else:
                    messages.success(
                        request,
                        f"Consent signed by {signer_label(consent)}. The PDF is being prepared.",
                    )
                    return redirect("consent-detail", request.clinic.slug, consent.pk)
        status = 400
    else:
        template = _chosen_template(request)
    if template is not None:
        # The text on screen is always the form's current text; the hidden field names it.
        version = current_version(template)
        if form is None and template.is_active and version is not None:
            form = ConsentSignForm.for_patient(patient, version)
    context = {
        "patient": patient,
        "guardians": list(patient.guardians.all()),
        "templates": active_templates(),
        "template": template,
        "version": version,
        "form": form,
    }
    return render(request, f"{PAGES}/sign.html", context, status=status)


# ---------------------------------------------------------------------------------------------
# Signed consents


@require_perm(Perm.CLINICAL_VIEW)
@_lookup(_patient, "GET")
def patient_consent_list(request: HttpRequest, patient: Patient) -> HttpResponse:
    context = {
        "patient": patient,
        "consents": patient_consents(patient_id=patient.pk),
        "can_sign": request.membership.has_perm(Perm.CLINICAL_DRAFT),
    }
    return render(request, f"{PAGES}/patient_list.html", context)


def _detail(
    request: HttpRequest, consent: SignedConsent, withdraw_form: WithdrawForm, status: int = 200
) -> HttpResponse:
    context = {
        "consent": consent,
        "patient": consent.patient,
        "version": consent.template_version,
        "current_number": getattr(
            current_version(consent.template_version.template), "version", None
        ),
        "document": consent.document,
        "signer": signer_label(consent),
        "signature_uri": signature_data_uri(consent),
        "withdraw_form": withdraw_form,
        "can_withdraw": consent.withdrawn_at is None
        and request.membership.has_perm(Perm.CLINICAL_DRAFT),
    }
    return render(request, f"{PAGES}/detail.html", context, status=status)


@require_perm(Perm.CLINICAL_VIEW)
@_lookup(_consent, "GET")
def consent_detail(request: HttpRequest, consent: SignedConsent) -> HttpResponse:
    return _detail(request, consent, WithdrawForm())


@require_perm(Perm.CLINICAL_DRAFT)
@_lookup(_consent, "POST")
def consent_withdraw_view(request: HttpRequest, consent: SignedConsent) -> HttpResponse:
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            consent_withdraw(
                consent=consent,
                reason=form.cleaned_data["reason"],
                actor=request.user,
                actor_membership=request.membership,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request, "Consent recorded as withdrawn. Its PDF no longer verifies as valid."
            )
            return redirect("consent-detail", request.clinic.slug, consent.pk)
    return _detail(request, consent_page(consent_id=consent.pk), form, status=400)
