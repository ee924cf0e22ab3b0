"""The prescription of a visit: finding drugs, adding, changing, removing and stopping
medicines, and the doctor's prescription templates."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.roles import Perm
from patients import services
from patients.forms_visits import (
    FrequencyPreviewForm,
    ItemForm,
    ItemUpdateForm,
    StopForm,
    TemplateSaveForm,
)
from patients.models import Drug, Prescription, PrescriptionItem, PrescriptionTemplate, Visit
from patients.selectors.prescriptions import drug_search
from patients.selectors.visit_pages import visit_page
from patients.services.prescriptions import ReviewNeeded
from patients.views.visits.page import (
    PARTIALS,
    SEARCH_LIMIT,
    SECTIONS,
    for_visit,
    history,
    messages_of,
    one_of,
    page_context,
    require_own_visit,
    section_answer,
    section_write,
)


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@for_visit("GET")
def item_form(request: HttpRequest, visit: Visit) -> HttpResponse:
    """The new-medicine form, filled in from the drug chosen in the search (htmx swaps it in),
    or blank for a medicine typed in by hand."""
    drug = None
    drug_id = request.GET.get("drug_id", "")
    if drug_id.isdigit() and len(drug_id) < 19:
        drug = Drug.objects.filter(pk=int(drug_id), is_active=True).first()
    brand = " ".join(request.GET.get("brand", "").split())[:60]
    if drug is not None and brand and not drug.brands.filter(name=brand).exists():
        brand = ""
    form = (
        ItemForm.for_drug(drug, brand, auto_id="id_rx_%s") if drug else ItemForm(auto_id="id_rx_%s")
    )
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
@for_visit("POST")
def item_add(request: HttpRequest, visit: Visit) -> HttpResponse:
    return add_item_from_form(request, visit, ItemForm(request.POST, auto_id="id_rx_%s"))


def add_item_from_form(request: HttpRequest, visit: Visit, form: ItemForm) -> HttpResponse:
    """Add the medicine a bound ItemForm holds (the checks stop it with their findings) and
    answer with the prescription section."""
    saved = ""
    if form.is_valid():
        drug = None
        if form.cleaned_data["drug_id"] is not None:
            drug = Drug.objects.filter(pk=form.cleaned_data["drug_id"]).first()
            if drug is None:
                form.add_error(None, "Choose a drug from this clinic's list.")
        if not form.errors:
            values = form.dosing_values()
            values["override_reason"] = form.cleaned_data["override_reason"]
            if drug is None:
                values.update(form.typed_values())
            else:
                values["brand_name"] = form.cleaned_data["brand_name"]
            try:
                require_own_visit(request, visit)
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
                if item.override_reason:
                    saved += " The checks' warnings and your reason are kept on the prescription."
    return section_answer(
        request, visit, "prescription", form=form, form_key="item_add", saved=saved
    )


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@for_visit("POST")
def item_update(request: HttpRequest, visit: Visit, item_id: int) -> HttpResponse:
    item = one_of(PrescriptionItem.objects, pk=item_id, prescription__visit=visit)
    form = ItemUpdateForm(request.POST, auto_id=f"id_item{item.pk}_%s")

    def write() -> None:
        require_own_visit(request, visit)
        services.prescription_item_update(
            item=item,
            actor=request.user,
            actor_membership=request.membership,
            **form.dosing_values(),
            override_reason=form.cleaned_data["override_reason"],
        )

    return section_write(
        request,
        visit,
        "prescription",
        write,
        form=form,
        form_key=f"item:{item.pk}",
        saved=f"Saved {item.generic_name}.",
        show_error=ItemUpdateForm.show_error,
    )


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@for_visit("POST")
def item_remove(request: HttpRequest, visit: Visit, item_id: int) -> HttpResponse:
    item = one_of(PrescriptionItem.objects, pk=item_id, prescription__visit=visit)

    def write() -> None:
        require_own_visit(request, visit)
        services.prescription_item_remove(
            item=item, actor=request.user, actor_membership=request.membership
        )

    return section_write(
        request, visit, "prescription", write, saved=f"Removed {item.generic_name}."
    )


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@for_visit("POST")
def item_stop(request: HttpRequest, visit: Visit, item_id: int) -> HttpResponse:
    """Stop a medicine on a signed prescription (any doctor of the clinic may)."""
    item = one_of(PrescriptionItem.objects, pk=item_id, prescription__visit=visit)
    form = StopForm(request.POST)
    if not form.is_valid():
        return section_answer(
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
        return section_answer(
            request, visit, "prescription", errors=messages_of(exc, item.generic_name)
        )
    return section_answer(
        request, visit, "prescription", saved=f"Stopped {item.generic_name} from today."
    )


MAX_REVIEW_LINES = 60


def _review_answers(request: HttpRequest) -> tuple[dict[int, str], set[int]]:
    """The doctor's answers to a review: a reason (`reason_<n>`) or leave out (`leave_<n>`)."""
    reasons: dict[int, str] = {}
    leave_out: set[int] = set()
    for number in range(1, MAX_REVIEW_LINES + 1):
        reason = request.POST.get(f"reason_{number}", "")[:1000]
        if reason.strip():
            reasons[number] = reason
        if request.POST.get(f"leave_{number}"):
            leave_out.add(number)
    return reasons, leave_out


def _review_answer(
    request: HttpRequest, visit: Visit, exc: ReviewNeeded, action: str, title: str
) -> HttpResponse:
    """The prescription section with the lines the checks stopped, each to be answered."""
    reasons, leave_out = _review_answers(request)
    flagged = {line.number for line in exc.lines}
    review = {
        "action": action,
        "title": title,
        "lines": [
            {
                "number": line.number,
                "label": line.label,
                "findings": line.findings,
                "reason": reasons.get(line.number, ""),
                "left_out": line.number in leave_out,
            }
            for line in exc.lines
        ],
        # Answers to lines no longer flagged are carried along, so nothing typed is lost.
        "answered": [(n, r) for n, r in reasons.items() if n not in flagged],
        "left_out": sorted(leave_out - flagged),
    }
    fresh = visit_page(visit_id=visit.pk)
    if request.htmx:
        context = page_context(request, fresh)
        context["rx_review"] = review
        return render(request, SECTIONS["prescription"], context)
    context = page_context(request, fresh)
    context.update(history(fresh), page_errors=[], rx_review=review)
    return render(request, "patients/visits/detail.html", context, status=400)


def _added(items: list, source: str) -> str:
    count = len(items)
    return f"Added {count} medicine{'s' if count != 1 else ''} from {source}."


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@for_visit("POST")
def template_apply(request: HttpRequest, visit: Visit, template_id: int) -> HttpResponse:
    template = one_of(PrescriptionTemplate.objects, pk=template_id)
    reasons, leave_out = _review_answers(request)
    try:
        require_own_visit(request, visit)
        items = services.prescription_template_apply(
            template=template,
            visit=visit,
            actor=request.user,
            actor_membership=request.membership,
            overrides=reasons,
            leave_out=leave_out,
        )
    except ReviewNeeded as exc:
        action = reverse("visit-template-apply", args=(request.clinic.slug, visit.pk, template.pk))
        return _review_answer(request, visit, exc, action, f"Template {template.name}")
    except DomainError as exc:
        return section_answer(
            request, visit, "prescription", errors=messages_of(exc, template.name)
        )
    return section_answer(request, visit, "prescription", saved=_added(items, template.name))


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@for_visit("POST")
def repeat_last(request: HttpRequest, visit: Visit) -> HttpResponse:
    """Repeat the patient's last signed prescription, each medicine checked again today."""
    reasons, leave_out = _review_answers(request)
    try:
        require_own_visit(request, visit)
        items = services.prescription_repeat_last(
            visit=visit,
            actor=request.user,
            actor_membership=request.membership,
            overrides=reasons,
            leave_out=leave_out,
        )
    except ReviewNeeded as exc:
        action = reverse("visit-repeat-last", args=(request.clinic.slug, visit.pk))
        return _review_answer(request, visit, exc, action, "The last prescription")
    except DomainError as exc:
        return section_answer(request, visit, "prescription", errors=messages_of(exc, "Repeat"))
    return section_answer(
        request, visit, "prescription", saved=_added(items, "the last prescription")
    )


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@for_visit("POST")
def template_save(request: HttpRequest, visit: Visit) -> HttpResponse:
    """Save the prescription's medicines as one of the doctor's templates."""
    form = TemplateSaveForm(request.POST, auto_id="id_tpl_%s")

    def write():
        prescription = Prescription.objects.filter(visit=visit).first()
        items = list(prescription.items.all()) if prescription is not None else []
        require_own_visit(request, visit)
        return services.prescription_template_save(
            doctor=request.membership,
            actor=request.user,
            name=form.cleaned_data["name"],
            items=TemplateSaveForm.items_from(items),
        )

    return section_write(
        request,
        visit,
        "prescription",
        write,
        form=form,
        form_key="template_save",
        saved=lambda template: f"Saved the medicines as your template {template.name}.",
    )


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@require_GET
def frequency_preview(request: HttpRequest) -> HttpResponse:
    """What a frequency means, as the doctor types it: the plain label and the quantity to
    dispense, or the parser's message."""
    preview = FrequencyPreviewForm(request.GET).preview()
    return render(request, f"{PARTIALS}/_frequency_preview.html", {"preview": preview})


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@for_visit("GET")
def drug_search_results(request: HttpRequest, visit: Visit) -> HttpResponse:
    query = (request.GET.get("drug_query") or request.GET.get("q") or "").strip()[:100]
    drugs = drug_search(query, limit=SEARCH_LIMIT) if query else []
    context = {"visit": visit, "drugs": drugs, "query": query}
    return render(request, f"{PARTIALS}/_drug_results.html", context)
