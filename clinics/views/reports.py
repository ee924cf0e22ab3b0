"""The reports page and each section's CSV file."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from clinics.charts import bar_chart_svg
from clinics.decorators import require_perm
from clinics.forms_reports import ReportPeriodForm
from clinics.reports import (
    Preset,
    ReportQuery,
    report_doctors,
    report_query,
    report_sections,
    section_csv,
)
from clinics.roles import Perm


def _chosen(request: HttpRequest) -> tuple[ReportPeriodForm, ReportQuery | None]:
    """(form, query) from the page's choices (the last 7 days when none); the query is None
    when the form has errors."""
    membership = request.membership
    doctors = report_doctors()
    form = ReportPeriodForm(
        request.GET or {"period": Preset.LAST_7_DAYS},
        today=timezone.now().astimezone(request.clinic.tzinfo).date(),
        doctors=doctors,
        membership=membership,
        all_doctors=membership.has_perm(Perm.REPORTS_ALL_DOCTORS),
    )
    period = form.report_period
    if period is None:
        return form, None
    query = report_query(
        clinic=request.clinic,
        period=period,
        membership=membership,
        doctors=doctors,
        doctor_id=form.cleaned_data["doctor"],
    )
    return form, query


@require_perm(Perm.REPORTS_VIEW)
def reports(request: HttpRequest) -> HttpResponse:
    """Patients seen, new and follow-up, no-shows and cancellations, waits and WhatsApp
    reminders for a chosen period; a bad period is a form error (400), never a crash."""
    form, query = _chosen(request)
    sections = [] if query is None else report_sections(query, request.membership)
    context = {
        "form": form,
        "query": query,
        "sections": [
            {"section": s, "chart": bar_chart_svg(s.chart) if s.chart else None} for s in sections
        ],
        "csv_query": request.GET.urlencode(),
    }
    return render(request, "clinics/reports.html", context, status=400 if query is None else 200)


@require_perm(Perm.REPORTS_VIEW)
def report_csv(request: HttpRequest) -> HttpResponse:
    """One section as a CSV file (`?section=<slug>` and the page's own choices)."""
    form, query = _chosen(request)
    if query is None:
        return render(request, "clinics/reports.html", {"form": form}, status=400)
    slug = request.GET.get("section", "")
    sections = report_sections(query, request.membership, only=slug) if slug else []
    section = next((s for s in sections if s.slug == slug), None)
    if section is None:
        raise Http404("No such report section")
    period = query.period
    response = HttpResponse(
        section_csv(section).encode("utf-8-sig"), content_type="text/csv; charset=utf-8"
    )
    filename = f"{section.slug}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
