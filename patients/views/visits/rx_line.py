"""Prescribing by one line, as doctors write it ("Dolo 650 1-0-1 5d"): what the line was read
as, shown while typing, and Enter to add it through the same form, service and checks."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clinics.decorators import require_perm
from clinics.roles import Perm
from patients.dosing.lines import ParsedLine, parse_line
from patients.forms_visits import ItemForm
from patients.models import Visit
from patients.selectors.prescriptions import LineDrug, line_drug
from patients.views.visits.page import PARTIALS, for_visit, render_visit_page
from patients.views.visits.prescriptions import add_item_from_form

MAX_LINE_INPUT = 1000


def _read(request: HttpRequest, source) -> tuple[ParsedLine, LineDrug]:
    parsed = parse_line((source.get("line") or "")[:MAX_LINE_INPUT])
    return parsed, line_drug(parsed)


def _form_data(parsed: ParsedLine, found: LineDrug) -> dict[str, str]:
    """What the line fills in on the medicine form; what it does not say keeps the drug's
    defaults, as when the drug is picked from the search."""
    drug = found.drug
    initial = ItemForm.for_drug(drug, found.brand).initial
    data = {k: "" if v is None else str(v) for k, v in initial.items()}
    if parsed.dose_amount is not None:
        data["dose_amount"] = format(parsed.dose_amount.normalize(), "f")
    if parsed.dose_unit:
        data["dose_unit"] = parsed.dose_unit
    if parsed.frequency is not None:
        data["frequency"] = parsed.frequency.code
    if parsed.duration_days is not None:
        data["duration_days"] = str(parsed.duration_days)
    if parsed.timing:
        data["timing"] = parsed.timing
    if parsed.instructions:
        data["instructions"] = parsed.instructions
    return data


def _missing(parsed: ParsedLine, found: LineDrug) -> list[str]:
    """Why the line cannot be added as it is, in the doctor's terms."""
    missing = list(parsed.problems)
    if parsed.problems:
        return missing
    if found.drug is None:
        if found.choices:
            missing.append(
                "The line does not single out one drug on the clinic's list (its name, form or "
                "strength): pick the one you mean below."
            )
        elif parsed.drug_query:
            missing.append(
                f"No drug on the clinic's list matches \u201c{parsed.drug_query}\u201d: "
                "search for it below or type it in."
            )
        else:
            missing.append("Name the medicine, for example: Tab Paracetamol 650 1-0-1 x 5d.")
    if parsed.frequency is None:
        missing.append("Say how often, for example 1-0-1, BD or SOS.")
    elif (
        parsed.duration_days is None
        and not (parsed.frequency.as_needed or parsed.frequency.once)
        and not (found.drug is not None and found.drug.default_duration_days)
    ):
        missing.append("Say for how many days, for example x 5 days or 5d.")
    return missing


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@for_visit("GET")
def item_line_preview(request: HttpRequest, visit: Visit) -> HttpResponse:
    """What a line says, as the doctor types it."""
    parsed, found = _read(request, request.GET)
    missing = _missing(parsed, found) if parsed.text else []
    context = {"visit": visit, "parsed": parsed, "found": found, "missing": missing}
    return render(request, f"{PARTIALS}/_rx_line_preview.html", context)


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@for_visit("POST")
def item_line_add(request: HttpRequest, visit: Visit) -> HttpResponse:
    """Enter on the line: add the medicine it names, or say what is missing."""
    parsed, found = _read(request, request.POST)
    missing = _missing(parsed, found)
    if missing:
        if not request.htmx:
            return render_visit_page(request, visit.pk, page_errors=missing, status=400)
        context = {"visit": visit, "parsed": parsed, "found": found, "missing": missing}
        response = render(request, f"{PARTIALS}/_rx_line_preview.html", context)
        # The answer replaces only what the line was read as; the prescription stays.
        response["HX-Retarget"] = "#rx-line-preview"
        response["HX-Reswap"] = "innerHTML"
        return response
    form = ItemForm(_form_data(parsed, found), auto_id="id_rx_%s")
    return add_item_from_form(request, visit, form)
