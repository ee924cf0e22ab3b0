"""What every visit page shares: finding the visit, building the page and its sections, and
answering a section's form (the section again for htmx, else the whole page)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse

from clinics.errors import DomainError, NotAllowed, ValidationFailed
from clinics.models import Membership
from clinics.roles import Perm
from clinics.web import add_domain_error
from patients.forms_visits import (
    COUNTED_UNITS,
    AmendForm,
    DiagnosisForm,
    ItemForm,
    ItemUpdateForm,
    ProcedureForm,
    StopForm,
    TemplateSaveForm,
    VisitNotesForm,
    VitalsForm,
)
from patients.models import DocumentKind, Prescription, PrescriptionItem, Visit, Vitals
from patients.prescribing.checks import COVERAGE_NOTE
from patients.prescription_notes import prescription_notes
from patients.selectors.allergies import patient_allergies
from patients.selectors.documents import visit_documents
from patients.selectors.prescriptions import doctor_templates, last_prescription
from patients.selectors.visit_pages import visit_page, visit_versions
from patients.services.visits import not_the_visit_doctor

PARTIALS = "patients/visits/partials"
SECTIONS = {
    "notes": f"{PARTIALS}/_notes.html",
    "vitals": f"{PARTIALS}/_vitals.html",
    "diagnoses": f"{PARTIALS}/_diagnoses.html",
    "procedures": f"{PARTIALS}/_procedures.html",
    "prescription": f"{PARTIALS}/_prescription.html",
}
SEARCH_LIMIT = 12

Written = TypeVar("Written")


# ---------------------------------------------------------------------------------------------
# Looking things up


def visit_url(request: HttpRequest, visit_id: int, section: str = "") -> str:
    url = reverse("visit-detail", args=[request.clinic.slug, visit_id])
    return f"{url}#visit-{section}" if section else url


def for_visit(*methods: str, page: bool = False):
    """Give the view the visit named by `visit_id`, then allow only `methods`.

    The visit is looked up first, so another clinic's visit answers 404 to every method. With
    `page`, the visit comes with everything the page shows (`visit_page`).
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, visit_id: int, **kwargs) -> HttpResponse:
            try:
                if page:
                    visit = visit_page(visit_id=visit_id)
                else:
                    visit = Visit.objects.select_related("doctor__user").get(pk=visit_id)
            except Visit.DoesNotExist:
                raise Http404("No such visit") from None
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            return view(request, visit, **kwargs)

        return wrapper

    return decorator


def one_of(queryset, **lookup):
    found = queryset.filter(**lookup).first()
    if found is None:
        raise Http404("Not found")
    return found


def require_own_visit(request: HttpRequest, visit: Visit) -> None:
    """Medicines are written by the visit's own doctor. The prescription services enforce it;
    this only gives the colleague the same named message as the other sections (the visit
    services raise it themselves for notes, diagnoses and procedures)."""
    if request.membership.pk != visit.doctor_id:
        raise NotAllowed(not_the_visit_doctor(visit))


def messages_of(exc: DomainError, prefix: str) -> list[str]:
    """A service's messages for one line ("PARACETAMOL: ..."), shown on top of a section."""
    if isinstance(exc, ValidationFailed):
        return [f"{prefix}: {m}" for messages in exc.errors.values() for m in messages]
    return [f"{prefix}: {exc.message}"]


def _prescription_of(visit: Visit) -> Prescription | None:
    try:
        return visit.prescription
    except Prescription.DoesNotExist:
        return None


def _vitals_of(visit: Visit) -> Vitals | None:
    try:
        return visit.vitals
    except Vitals.DoesNotExist:
        return None


# ---------------------------------------------------------------------------------------------
# Building the page and its sections


def _number(value: Decimal | None) -> str:
    """Decimal("1.00") -> "1", Decimal("0.50") -> "0.5"."""
    return "" if value is None else format(Decimal(value).normalize(), "f")


def _dose_text(item: PrescriptionItem) -> str:
    """ "1 tablet", "0.5 tablets", "5 ml"; only the unit when the frequency gives the amounts
    ("1/2-0-1/2")."""
    amount = Decimal(item.dose_amount)
    unit = item.dose_unit
    if not unit and item.form in COUNTED_UNITS:
        one, many = COUNTED_UNITS[item.form]
        unit = one if amount == 1 else many
    doses = (item.schedule or {}).get("doses") or []
    if any(dose.get("amount") != "1" for dose in doses):
        return unit
    return f"{_number(amount)} {unit}".strip()


def _item_row(item: PrescriptionItem, form: ItemUpdateForm | None) -> dict[str, Any]:
    return {
        "item": item,
        "form": form,
        "dose": _dose_text(item),
        "quantity": _number(item.quantity),
    }


def _abilities(membership: Membership, visit: Visit) -> dict[str, bool]:
    draft = not visit.is_signed
    own = membership.pk == visit.doctor_id
    return {
        "is_own_visit": own,
        "can_edit": draft and own and membership.has_perm(Perm.CLINICAL_EDIT),
        # An assistant drafts the notes; a doctor writes only their own visit's.
        "can_write_notes": draft
        and membership.has_perm(Perm.CLINICAL_DRAFT)
        and (own or not membership.has_perm(Perm.CLINICAL_EDIT)),
        "can_prescribe": draft and own and membership.has_perm(Perm.PRESCRIPTIONS_EDIT),
        "can_record_vitals": draft and membership.has_perm(Perm.CLINICAL_DRAFT),
        "can_sign": draft and own and membership.has_perm(Perm.CLINICAL_EDIT),
        "can_amend": visit.is_signed
        and visit.is_current
        and own
        and membership.has_perm(Perm.CLINICAL_EDIT),
        "can_stop": visit.is_signed
        and visit.is_current
        and membership.has_perm(Perm.PRESCRIPTIONS_EDIT),
        "can_print_prescription": membership.has_perm(Perm.PRESCRIPTIONS_VIEW),
    }


def page_context(
    request: HttpRequest,
    visit: Visit,
    *,
    forms: dict[str, Any] | None = None,
    notices: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """Everything the page and each section partial need. `forms` replaces a section's blank
    form with a bound one (to show its errors); `notices` and `errors` are shown at the top of
    a section."""
    forms = forms or {}
    abilities = _abilities(request.membership, visit)
    prescription = _prescription_of(visit)
    items = list(prescription.items.all()) if prescription is not None else []
    context: dict[str, Any] = {
        "visit": visit,
        "patient": visit.patient,
        "allergy_entries": patient_allergies(visit.patient_id),
        "vitals": _vitals_of(visit),
        "prescription": prescription,
        "notices": notices or {},
        "errors": errors or {},
        **abilities,
    }
    if visit.is_signed:
        documents = visit_documents(visit_id=visit.pk)
        kinds = [(DocumentKind.VISIT_SUMMARY, "Visit summary")]
        if abilities.get("can_print_prescription") and prescription is not None:
            kinds.insert(0, (DocumentKind.PRESCRIPTION, "Prescription"))
        context["signed_documents"] = [(kind, label, documents.get(kind)) for kind, label in kinds]
    if abilities["can_write_notes"]:
        context["notes_form"] = forms.get("notes") or VisitNotesForm.for_visit(visit)
    if abilities["can_edit"]:
        context["diagnosis_form"] = forms.get("diagnoses") or DiagnosisForm()
        context["procedure_form"] = forms.get("procedures") or ProcedureForm()
    if abilities["can_record_vitals"]:
        context["vitals_form"] = forms.get("vitals") or VitalsForm.for_vitals(context["vitals"])
    if abilities["can_prescribe"]:
        context["item_rows"] = [
            _item_row(item, forms.get(f"item:{item.pk}") or ItemUpdateForm.for_item(item))
            for item in items
        ]
        context["item_form"] = forms.get("item_add") or ItemForm(auto_id="id_rx_%s")
        context["templates"] = doctor_templates(request.membership)
        context["check_coverage"] = COVERAGE_NOTE
        context["can_repeat_last"] = last_prescription(visit) is not None
        context["template_form"] = forms.get("template_save") or TemplateSaveForm(
            auto_id="id_tpl_%s"
        )
    else:
        context["item_rows"] = [_item_row(item, None) for item in items]
    notes = prescription_notes(visit.clinic_id, items)
    for row in context["item_rows"]:
        row["notes"] = notes.get(row["item"].pk, [])
    if abilities["can_stop"]:
        context["stop_reasons"] = StopForm.base_fields["reason"].choices
    if abilities["can_amend"]:
        context["amend_form"] = forms.get("amend") or AmendForm()
    return context


def render_visit_page(
    request: HttpRequest,
    visit_id: int,
    *,
    forms: dict[str, Any] | None = None,
    page_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    visit = visit_page(visit_id=visit_id)
    context = page_context(request, visit, forms=forms)
    context.update(history(visit), page_errors=page_errors or [])
    return render(request, "patients/visits/detail.html", context, status=status)


def history(visit: Visit) -> dict[str, Any]:
    versions = visit_versions(visit)
    return {
        "versions": versions,
        "open_amendment": next((v for v in versions if v.amends_id == visit.pk), None),
    }


def section_answer(
    request: HttpRequest,
    visit: Visit,
    section: str,
    *,
    form: Any = None,
    form_key: str | None = None,
    saved: str = "",
    errors: list[str] | None = None,
) -> HttpResponse:
    """The answer to a section's form: the section again (htmx), or the whole page.

    A form with errors is shown bound, with its messages; `errors` are shown at the top of
    the section. Without htmx, success redirects back to the page with a message.
    """
    errors = list(errors or [])
    if form is not None:
        # Shown on top of the section, where they are seen even when the form itself is not
        # (a colleague's visit, a visit signed a moment ago).
        errors.extend(form.non_field_errors())
    failed = bool(errors) or (form is not None and bool(form.errors))
    forms = {form_key or section: form} if failed and form is not None else {}
    if request.htmx:
        fresh = visit_page(visit_id=visit.pk)
        context = page_context(
            request,
            fresh,
            forms=forms,
            notices={} if failed else {section: saved},
            errors={section: errors},
        )
        return render(request, SECTIONS[section], context)
    if failed:
        return render_visit_page(request, visit.pk, forms=forms, page_errors=errors, status=400)
    if saved:
        messages.success(request, saved)
    return redirect(visit_url(request, visit.pk, section))


def section_write(
    request: HttpRequest,
    visit: Visit,
    section: str,
    write: Callable[[], Written],
    *,
    form: forms.BaseForm | None = None,
    form_key: str | None = None,
    saved: str | Callable[[Written], str] = "",
    show_error: Callable[[Any, DomainError], None] = add_domain_error,
) -> HttpResponse:
    """Make one change to a section of the visit with `write` (a service call), then answer
    with the section.

    With a form, `write` runs only when the form is valid, and a refusal from the service is
    shown on the form (`show_error`); without one, the refusal is shown on top of the section.
    `saved` is the message on success, or makes it from what `write` returned.
    """
    errors: list[str] = []
    message = saved if isinstance(saved, str) else ""
    if form is None or form.is_valid():
        try:
            written = write()
        except DomainError as exc:
            if form is None:
                errors = [exc.message]
            else:
                show_error(form, exc)
        else:
            if not isinstance(saved, str):
                message = saved(written)
    return section_answer(
        request, visit, section, form=form, form_key=form_key, saved=message, errors=errors
    )
