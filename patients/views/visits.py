"""Visit (consultation) pages: starting a visit, writing it section by section, signing and
amending it, and the print-ready prescription and visit summary.

Every section of a draft (notes, vitals, diagnoses, procedures, medicines) is its own small
form that htmx saves in place: the answer is the section again, with the new data or with the
service's messages next to the fields. Without htmx the same forms post normally and the page
reloads. Views parse input, check permission and call one service (writes) or selectors
(reads); the services check the rules again.

Who may do what: clinical.view opens a visit (front desk and billing never read clinical
notes); clinical.draft records vitals (assistants); clinical.edit and prescriptions.edit write
notes, diagnoses and medicines, and only on the doctor's own visit; a colleague can read it.
"""

from __future__ import annotations

from decimal import Decimal
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from clinics.decorators import require_perm
from clinics.errors import DomainError, NotAllowed, ValidationFailed
from clinics.models import Membership
from clinics.roles import Perm
from clinics.web import add_domain_error
from patients import icd10, services
from patients.forms_visits import (
    COUNTED_UNITS,
    AmendForm,
    DiagnosisForm,
    FrequencyPreviewForm,
    ItemForm,
    ItemUpdateForm,
    ProcedureForm,
    SignForm,
    StopForm,
    TemplateSaveForm,
    VisitNotesForm,
    VisitStartForm,
    VitalsForm,
    error_messages,
)
from patients.models import (
    Diagnosis,
    DocumentKind,
    Drug,
    Patient,
    Prescription,
    PrescriptionItem,
    PrescriptionTemplate,
    ProcedureDone,
    Visit,
    Vitals,
)
from patients.selectors import patient_detail
from patients.selectors.documents import visit_documents
from patients.selectors.prescriptions import doctor_templates, drug_search, prescription_document
from patients.selectors.visit_pages import (
    appointment_for_visit,
    patient_draft_visits,
    visit_page,
    visit_summary_document,
    visit_versions,
)
from patients.services.visits import not_the_visit_doctor, visit_record_view

PARTIALS = "patients/visits/partials"
SECTIONS = {
    "notes": f"{PARTIALS}/_notes.html",
    "vitals": f"{PARTIALS}/_vitals.html",
    "diagnoses": f"{PARTIALS}/_diagnoses.html",
    "procedures": f"{PARTIALS}/_procedures.html",
    "prescription": f"{PARTIALS}/_prescription.html",
}
SEARCH_LIMIT = 12


# ---------------------------------------------------------------------------------------------
# Looking things up


def _visit_url(request: HttpRequest, visit_id: int, section: str = "") -> str:
    url = reverse("visit-detail", args=[request.clinic.slug, visit_id])
    return f"{url}#visit-{section}" if section else url


def _for_visit(*methods: str, page: bool = False):
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


def _one_of(queryset, **lookup):
    found = queryset.filter(**lookup).first()
    if found is None:
        raise Http404("Not found")
    return found


def _require_own_visit(request: HttpRequest, visit: Visit) -> None:
    """Medicines are written by the visit's own doctor. The prescription services enforce it;
    this only gives the colleague the same named message as the other sections (the visit
    services raise it themselves for notes, diagnoses and procedures)."""
    if request.membership.pk != visit.doctor_id:
        raise NotAllowed(not_the_visit_doctor(visit))


def _messages_of(exc: DomainError, prefix: str) -> list[str]:
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


def _context(
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
    if abilities["can_edit"]:
        context["notes_form"] = forms.get("notes") or VisitNotesForm.for_visit(visit)
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
        context["template_form"] = forms.get("template_save") or TemplateSaveForm(
            auto_id="id_tpl_%s"
        )
    else:
        context["item_rows"] = [_item_row(item, None) for item in items]
    if abilities["can_stop"]:
        context["stop_reasons"] = StopForm.base_fields["reason"].choices
    if abilities["can_amend"]:
        context["amend_form"] = forms.get("amend") or AmendForm()
    return context


def _render_page(
    request: HttpRequest,
    visit_id: int,
    *,
    forms: dict[str, Any] | None = None,
    page_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    visit = visit_page(visit_id=visit_id)
    context = _context(request, visit, forms=forms)
    context.update(_history(visit), page_errors=page_errors or [])
    return render(request, "patients/visits/detail.html", context, status=status)


def _history(visit: Visit) -> dict[str, Any]:
    versions = visit_versions(visit)
    return {
        "versions": versions,
        "open_amendment": next((v for v in versions if v.amends_id == visit.pk), None),
    }


def _section_answer(
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
        context = _context(
            request,
            fresh,
            forms=forms,
            notices={} if failed else {section: saved},
            errors={section: errors},
        )
        return render(request, SECTIONS[section], context)
    if failed:
        return _render_page(request, visit.pk, forms=forms, page_errors=errors, status=400)
    if saved:
        messages.success(request, saved)
    return redirect(_visit_url(request, visit.pk, section))


# ---------------------------------------------------------------------------------------------
# Starting a visit


@require_perm(Perm.CLINICAL_DRAFT)
def visit_start(request: HttpRequest, patient_id: int) -> HttpResponse:
    """GET: choose the doctor and mode (the signed-in doctor by default). POST: open a draft
    visit, linked to an appointment when one is given, and go to it."""
    try:
        patient = patient_detail(patient_id=patient_id)
    except Patient.DoesNotExist:
        raise Http404("No such patient") from None
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method == "POST":
        form = VisitStartForm(request.POST, membership=request.membership)
        if form.is_valid():
            appointment = None
            appointment_id = form.cleaned_data["appointment_id"]
            if appointment_id is not None:
                appointment = appointment_for_visit(appointment_id)
                if appointment is None:
                    form.add_error(None, "That appointment is not in this clinic's diary.")
            if not form.errors:
                try:
                    visit = services.visit_start(
                        clinic=request.clinic,
                        actor=request.user,
                        actor_membership=request.membership,
                        patient=patient,
                        doctor=form.cleaned_data["doctor"],
                        appointment=appointment,
                        mode=form.cleaned_data["mode"],
                    )
                except DomainError as exc:
                    add_domain_error(form, exc)
                else:
                    messages.success(request, f"Started a visit for {patient.full_name}.")
                    return redirect(_visit_url(request, visit.pk))
    else:
        initial = {}
        if request.GET.get("appointment_id", "").isdigit():
            appointment = appointment_for_visit(int(request.GET["appointment_id"]))
            if appointment is not None and appointment.patient_id == patient.pk:
                initial = {"appointment_id": appointment.pk, "doctor": appointment.doctor_id}
        form = VisitStartForm(initial=initial, membership=request.membership)
    context = {"form": form, "patient": patient, "drafts": patient_draft_visits(patient)}
    return render(
        request, "patients/visits/start.html", context, status=400 if form.errors else 200
    )


# ---------------------------------------------------------------------------------------------
# The visit page


@require_perm(Perm.CLINICAL_VIEW)
@_for_visit("GET", page=True)
def visit_detail(request: HttpRequest, visit: Visit) -> HttpResponse:
    visit_record_view(visit=visit, actor=request.user)
    context = _context(request, visit)
    context.update(_history(visit), page_errors=[])
    return render(request, "patients/visits/detail.html", context)


@require_perm(Perm.CLINICAL_EDIT)
@_for_visit("POST")
def visit_notes(request: HttpRequest, visit: Visit) -> HttpResponse:
    form = VisitNotesForm(request.POST)
    if form.is_valid():
        try:
            services.visit_update_notes(
                visit=visit,
                actor=request.user,
                actor_membership=request.membership,
                **form.service_values(),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
    return _section_answer(request, visit, "notes", form=form, saved="Notes saved.")


@require_perm(Perm.CLINICAL_DRAFT)
@_for_visit("POST")
def visit_vitals(request: HttpRequest, visit: Visit) -> HttpResponse:
    form = VitalsForm(request.POST)
    if form.is_valid():
        try:
            services.vitals_record(
                visit=visit,
                actor=request.user,
                actor_membership=request.membership,
                **form.service_values(),
            )
        except DomainError as exc:
            form.show_error(exc)
    return _section_answer(request, visit, "vitals", form=form, saved="Vitals saved.")


@require_perm(Perm.CLINICAL_EDIT)
@_for_visit("POST")
def diagnosis_add(request: HttpRequest, visit: Visit) -> HttpResponse:
    form = DiagnosisForm(request.POST)
    saved = ""
    if form.is_valid():
        try:
            diagnosis = services.diagnosis_add(
                visit=visit,
                actor=request.user,
                actor_membership=request.membership,
                **form.service_values(),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            saved = f"Added {diagnosis}."
    return _section_answer(request, visit, "diagnoses", form=form, saved=saved)


@require_perm(Perm.CLINICAL_EDIT)
@_for_visit("POST")
def diagnosis_remove(request: HttpRequest, visit: Visit, diagnosis_id: int) -> HttpResponse:
    diagnosis = _one_of(Diagnosis.objects, pk=diagnosis_id, visit=visit)
    try:
        services.diagnosis_remove(
            diagnosis=diagnosis, actor=request.user, actor_membership=request.membership
        )
    except DomainError as exc:
        return _section_answer(request, visit, "diagnoses", errors=[exc.message])
    return _section_answer(request, visit, "diagnoses", saved=f"Removed {diagnosis}.")


@require_perm(Perm.CLINICAL_EDIT)
@_for_visit("POST")
def procedure_add(request: HttpRequest, visit: Visit) -> HttpResponse:
    form = ProcedureForm(request.POST)
    saved = ""
    if form.is_valid():
        try:
            procedure = services.procedure_add(
                visit=visit,
                actor=request.user,
                actor_membership=request.membership,
                **form.cleaned_data,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            saved = f"Added {procedure.name}."
    return _section_answer(request, visit, "procedures", form=form, saved=saved)


@require_perm(Perm.CLINICAL_EDIT)
@_for_visit("POST")
def procedure_remove(request: HttpRequest, visit: Visit, procedure_id: int) -> HttpResponse:
    procedure = _one_of(ProcedureDone.objects, pk=procedure_id, visit=visit)
    try:
        services.procedure_remove(
            procedure=procedure, actor=request.user, actor_membership=request.membership
        )
    except DomainError as exc:
        return _section_answer(request, visit, "procedures", errors=[exc.message])
    return _section_answer(request, visit, "procedures", saved=f"Removed {procedure.name}.")


# ---------------------------------------------------------------------------------------------
# Medicines


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@_for_visit("GET")
def item_form(request: HttpRequest, visit: Visit) -> HttpResponse:
    """The new-medicine form, filled in from the drug chosen in the search (htmx swaps it in),
    or blank for a medicine typed in by hand."""
    drug = None
    drug_id = request.GET.get("drug_id", "")
    if drug_id.isdigit():
        drug = Drug.objects.filter(pk=int(drug_id), is_active=True).first()
    form = ItemForm.for_drug(drug, auto_id="id_rx_%s") if drug else ItemForm(auto_id="id_rx_%s")
    preview = None
    if drug is not None and drug.default_frequency:
        preview = FrequencyPreviewForm(
            {
                "frequency": drug.default_frequency,
                "dose_amount": form.initial["dose_amount"],
                "duration_days": str(drug.default_duration_days or ""),
                "drug_form": drug.form,
            }
        ).preview()
    context = {"visit": visit, "item_form": form, "chosen_drug": drug, "preview": preview}
    return render(request, f"{PARTIALS}/_item_add.html", context)


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@_for_visit("POST")
def item_add(request: HttpRequest, visit: Visit) -> HttpResponse:
    form = ItemForm(request.POST, auto_id="id_rx_%s")
    saved = ""
    if form.is_valid():
        drug = None
        if form.cleaned_data["drug_id"] is not None:
            drug = Drug.objects.filter(pk=form.cleaned_data["drug_id"]).first()
            if drug is None:
                form.add_error(None, "Choose a drug from this clinic's list.")
        if not form.errors:
            values = form.dosing_values()
            if drug is None:
                values.update(form.typed_values())
            try:
                _require_own_visit(request, visit)
                item = services.prescription_item_add(
                    visit=visit,
                    actor=request.user,
                    actor_membership=request.membership,
                    drug=drug,
                    **values,
                )
            except DomainError as exc:
                form.show_error(exc)
            else:
                saved = f"Added {item.generic_name} {item.strength}".strip() + "."
    return _section_answer(
        request, visit, "prescription", form=form, form_key="item_add", saved=saved
    )


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@_for_visit("POST")
def item_update(request: HttpRequest, visit: Visit, item_id: int) -> HttpResponse:
    item = _one_of(PrescriptionItem.objects, pk=item_id, prescription__visit=visit)
    form = ItemUpdateForm(request.POST, auto_id=f"id_item{item.pk}_%s")
    if form.is_valid():
        try:
            _require_own_visit(request, visit)
            services.prescription_item_update(
                item=item,
                actor=request.user,
                actor_membership=request.membership,
                **form.dosing_values(),
            )
        except DomainError as exc:
            form.show_error(exc)
    return _section_answer(
        request,
        visit,
        "prescription",
        form=form,
        form_key=f"item:{item.pk}",
        saved=f"Saved {item.generic_name}.",
    )


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@_for_visit("POST")
def item_remove(request: HttpRequest, visit: Visit, item_id: int) -> HttpResponse:
    item = _one_of(PrescriptionItem.objects, pk=item_id, prescription__visit=visit)
    try:
        _require_own_visit(request, visit)
        services.prescription_item_remove(
            item=item, actor=request.user, actor_membership=request.membership
        )
    except DomainError as exc:
        return _section_answer(request, visit, "prescription", errors=[exc.message])
    return _section_answer(request, visit, "prescription", saved=f"Removed {item.generic_name}.")


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@_for_visit("POST")
def item_stop(request: HttpRequest, visit: Visit, item_id: int) -> HttpResponse:
    """Stop a medicine on a signed prescription (any doctor of the clinic may)."""
    item = _one_of(PrescriptionItem.objects, pk=item_id, prescription__visit=visit)
    form = StopForm(request.POST)
    if not form.is_valid():
        return _section_answer(
            request,
            visit,
            "prescription",
            errors=[f"{item.generic_name}: choose why the medicine is stopped."],
        )
    try:
        services.prescription_item_stop(
            item=item, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        return _section_answer(
            request, visit, "prescription", errors=_messages_of(exc, item.generic_name)
        )
    return _section_answer(
        request, visit, "prescription", saved=f"Stopped {item.generic_name} from today."
    )


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@_for_visit("POST")
def template_apply(request: HttpRequest, visit: Visit, template_id: int) -> HttpResponse:
    template = _one_of(PrescriptionTemplate.objects, pk=template_id)
    try:
        _require_own_visit(request, visit)
        items = services.prescription_template_apply(
            template=template,
            visit=visit,
            actor=request.user,
            actor_membership=request.membership,
        )
    except DomainError as exc:
        return _section_answer(
            request, visit, "prescription", errors=_messages_of(exc, template.name)
        )
    count = len(items)
    return _section_answer(
        request,
        visit,
        "prescription",
        saved=f"Added {count} medicine{'s' if count != 1 else ''} from {template.name}.",
    )


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@_for_visit("POST")
def template_save(request: HttpRequest, visit: Visit) -> HttpResponse:
    """Save the prescription's medicines as one of the doctor's templates."""
    form = TemplateSaveForm(request.POST, auto_id="id_tpl_%s")
    saved = ""
    if form.is_valid():
        prescription = Prescription.objects.filter(visit=visit).first()
        items = list(prescription.items.all()) if prescription is not None else []
        try:
            _require_own_visit(request, visit)
            template = services.prescription_template_save(
                doctor=request.membership,
                actor=request.user,
                name=form.cleaned_data["name"],
                items=TemplateSaveForm.items_from(items),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            saved = f"Saved the medicines as your template {template.name}."
    return _section_answer(
        request, visit, "prescription", form=form, form_key="template_save", saved=saved
    )


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@require_GET
def frequency_preview(request: HttpRequest) -> HttpResponse:
    """What a frequency means, as the doctor types it: the plain label and the quantity to
    dispense, or the parser's message."""
    preview = FrequencyPreviewForm(request.GET).preview()
    return render(request, f"{PARTIALS}/_frequency_preview.html", {"preview": preview})


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@_for_visit("GET")
def drug_search_results(request: HttpRequest, visit: Visit) -> HttpResponse:
    query = (request.GET.get("drug_query") or request.GET.get("q") or "").strip()[:100]
    drugs = drug_search(query, limit=SEARCH_LIMIT) if query else []
    context = {"visit": visit, "drugs": drugs, "query": query}
    return render(request, f"{PARTIALS}/_drug_results.html", context)


@require_perm(Perm.CLINICAL_EDIT)
@require_GET
def icd10_search(request: HttpRequest) -> HttpResponse:
    """WHO ICD-10 codes matching a code ('j06') or words ('typh fev'), as buttons that add the
    diagnosis with that code."""
    query = ""
    for name in ("q", "icd10_code", "text"):
        query = (request.GET.get(name) or "").strip()[:100]
        if query:
            break
    results = icd10.search(query, limit=SEARCH_LIMIT) if len(query) >= 2 else []
    return render(request, f"{PARTIALS}/_icd10_results.html", {"results": results, "query": query})


# ---------------------------------------------------------------------------------------------
# Signing and amending


@require_perm(Perm.CLINICAL_EDIT)
@_for_visit("GET", "POST")
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
                return redirect(_visit_url(request, visit.pk))
    page = visit_page(visit_id=visit.pk)
    context = _context(request, page)
    context["error"] = error
    return render(
        request, "patients/visits/sign_confirm.html", context, status=400 if error else 200
    )


@require_perm(Perm.CLINICAL_EDIT)
@_for_visit("POST")
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
            return redirect(_visit_url(request, amendment.pk))
    retry = AmendForm(initial={"reason": request.POST.get("reason", "")})
    return _render_page(
        request,
        visit.pk,
        forms={"amend": retry},
        page_errors=error_messages(form),
        status=400,
    )


# ---------------------------------------------------------------------------------------------
# Printing


@require_perm(Perm.PRESCRIPTIONS_VIEW)
@_for_visit("GET")
def prescription_print(request: HttpRequest, visit: Visit) -> HttpResponse:
    """The prescription, ready to print (and, later, to render to PDF)."""
    try:
        document = prescription_document(visit=visit)
    except DomainError as exc:
        if exc.code != "no_registration_number":
            raise
        membership = request.membership
        context = {
            "visit": visit,
            "message": exc.message,
            "can_fix": membership.pk == visit.doctor_id or membership.has_perm(Perm.STAFF_MANAGE),
        }
        return render(request, "patients/visits/no_registration.html", context)
    visit_record_view(visit=visit, actor=request.user)
    context = {"doc": document, "visit": visit}
    return render(request, "patients/visits/prescription_print.html", context)


@require_perm(Perm.CLINICAL_VIEW)
@_for_visit("GET")
def summary_print(request: HttpRequest, visit: Visit) -> HttpResponse:
    """The visit's notes, vitals, diagnoses and medicines, ready to print."""
    document = visit_summary_document(visit_id=visit.pk)
    visit_record_view(visit=visit, actor=request.user)
    context = {"doc": document, "visit": visit}
    return render(request, "patients/visits/summary_print.html", context)
