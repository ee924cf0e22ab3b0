"""Reads for the patient's care: the timeline's rows, the vitals trends chart, the clinic's drug
list page and a doctor's prescription templates.

Every read here runs a fixed number of queries, however many rows a patient has. Callers run
inside the clinic's scope.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet

from clinics.formatting import format_date
from clinics.models import Membership
from clinics.roles import Perm
from patients.models import (
    Appointment,
    Diagnosis,
    Drug,
    DrugForm,
    FoodTiming,
    Patient,
    Prescription,
    PrescriptionStatus,
    PrescriptionTemplate,
    Route,
    Visit,
    Vitals,
)
from patients.timeline import TimelineEntry, patient_timeline

TIMELINE_LIMIT = 50
# Each source reads one row more than the page shows, so the page knows when there are more.
TIMELINE_SOURCE_ROWS = TIMELINE_LIMIT + 1
VITALS_CHART_VISITS = 24
DRUGS_PER_PAGE = 50
# The chart's layout in SVG user units: the drawing scales to the width of the page.
CHART_WIDTH, CHART_HEIGHT = 640, 210
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 52, 624, 14, 172


def doctor_label(full_name: str | None) -> str:
    """ "Dr Anita Rao" for a doctor's name (as their user account spells it)."""
    name = " ".join((full_name or "").split())
    return name if name.lower().startswith(("dr ", "dr.")) else f"Dr {name}"


# ---------------------------------------------------------------------------------------------
# Timeline rows (one query each; the sources in patients.timeline_sources turn them into entries)
#
# Rows are dicts of the columns shown (`.values()`), with the doctor's name as `doctor_name`:
# a timeline lists about 150 rows, and model instances with their doctor and user cost several
# times as much to build as the entries made from them.


def timeline_appointments(*, patient: Patient) -> list[dict[str, Any]]:
    """The patient's latest appointments: id, kind, status, starts_at, token_number,
    cancelled_at and doctor_name. One query."""
    return list(
        Appointment.objects.filter(patient=patient)
        .order_by("-starts_at", "-id")
        .values(
            "id",
            "kind",
            "status",
            "starts_at",
            "token_number",
            "cancelled_at",
            doctor_name=F("doctor__user__full_name"),
        )[:TIMELINE_SOURCE_ROWS]
    )


def timeline_visits(*, patient: Patient, with_diagnoses: bool) -> list[dict[str, Any]]:
    """The patient's latest visits (every version): id, version, status, mode, created_at,
    doctor_name, the version that corrected each (`corrected_by_version`, or None) and, only
    when asked, their `diagnoses` (Diagnosis rows in order). One query, two with diagnoses."""
    visits = list(
        Visit.objects.filter(patient=patient)
        .order_by("-created_at", "-id")
        # Only what the timeline shows: the notes are long and never needed here.
        .values(
            "id",
            "version",
            "status",
            "mode",
            "created_at",
            doctor_name=F("doctor__user__full_name"),
            corrected_by_version=F("amendment__version"),
        )[:TIMELINE_SOURCE_ROWS]
    )
    if with_diagnoses:
        by_visit: dict[int, list[Diagnosis]] = {v["id"]: [] for v in visits}
        for visit in visits:
            visit["diagnoses"] = by_visit[visit["id"]]
        diagnoses = (
            Diagnosis.objects.filter(visit_id__in=list(by_visit))
            .only("id", "visit_id", "text", "icd10_code", "qualifier", "is_provisional")
            .order_by("position", "id")
        )
        for diagnosis in diagnoses:
            by_visit[diagnosis.visit_id].append(diagnosis)
    return visits


def timeline_prescriptions(*, patient: Patient) -> list[dict[str, Any]]:
    """The patient's latest signed prescriptions: id, signed_at, created_at, visit_id,
    visit_superseded_at, doctor_name, the number of medicines (`item_count`) and of stopped
    medicines (`stopped_count`). One query."""
    return list(
        Prescription.objects.filter(patient=patient, status=PrescriptionStatus.SIGNED)
        .annotate(
            item_count=Count("items"),
            stopped_count=Count("items", filter=Q(items__stopped_at__isnull=False)),
        )
        .order_by("-signed_at", "-id")
        .values(
            "id",
            "signed_at",
            "created_at",
            "visit_id",
            "item_count",
            "stopped_count",
            visit_superseded_at=F("visit__superseded_at"),
            doctor_name=F("doctor__user__full_name"),
        )[:TIMELINE_SOURCE_ROWS]
    )


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    truncated: bool  # there are older entries than the ones shown


def timeline_page(*, patient: Patient, membership: Membership) -> TimelinePage:
    """The latest TIMELINE_LIMIT entries of the patient's timeline that the member may see."""
    entries = patient_timeline(patient, membership, limit=TIMELINE_SOURCE_ROWS)
    return TimelinePage(entries[:TIMELINE_LIMIT], truncated=len(entries) > TIMELINE_LIMIT)


# ---------------------------------------------------------------------------------------------
# Vitals trends


def vitals_trend(*, patient: Patient) -> list[Vitals]:
    """Vitals with a blood pressure or a weight from the patient's latest VITALS_CHART_VISITS
    visits, oldest first. A corrected visit counts once (its latest version). One query."""
    rows = (
        Vitals.objects.filter(visit__patient=patient, visit__amendment__isnull=True)
        .filter(
            Q(bp_systolic__isnull=False)
            | Q(bp_diastolic__isnull=False)
            | Q(weight_kg__isnull=False)
        )
        .only("id", "visit_id", "bp_systolic", "bp_diastolic", "weight_kg", "recorded_at")
        .order_by("-recorded_at", "-id")[:VITALS_CHART_VISITS]
    )
    return list(reversed(list(rows)))


def _coordinate(value: float) -> str:
    """SVG coordinates as plain text, never localised by the template engine."""
    return f"{value:.1f}"


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    label: str  # "12 Jan 2027: 130 mmHg"

    @property
    def cx(self) -> str:
        return _coordinate(self.x)

    @property
    def cy(self) -> str:
        return _coordinate(self.y)


@dataclass(frozen=True)
class ChartSeries:
    name: str
    css_class: str
    points: list[ChartPoint]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.cx},{p.cy}" for p in self.points)


@dataclass(frozen=True)
class ChartTick:
    at: float  # the coordinate along its axis
    label: str

    @property
    def position(self) -> str:
        return _coordinate(self.at)


@dataclass(frozen=True)
class ChartPanel:
    """One small line chart, laid out in SVG user units (the SVG scales to its box)."""

    slug: str
    title: str
    unit: str
    summary: str  # one sentence for screen readers
    series: list[ChartSeries]
    y_ticks: list[ChartTick]
    x_ticks: list[ChartTick]
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = PLOT_LEFT
    right: int = PLOT_RIGHT
    top: int = PLOT_TOP
    bottom: int = PLOT_BOTTOM

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def axis_label_x(self) -> int:
        return (self.left + self.right) // 2

    @property
    def date_label_y(self) -> int:
        return self.bottom + 18

    @property
    def unit_label_y(self) -> int:
        return self.bottom + 34


@dataclass(frozen=True)
class VitalsRow:
    date: str
    blood_pressure: str
    weight: str


@dataclass(frozen=True)
class VitalsChart:
    panels: list[ChartPanel] = field(default_factory=list)
    rows: list[VitalsRow] = field(default_factory=list)

    @property
    def visit_count(self) -> int:
        return len(self.rows)


def _number_text(value: Decimal | int) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _nice_ticks(low: float, high: float, target: int = 4) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 times a power of ten) covering low..high."""
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    raw = (high - low) / target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    end = math.ceil(high / step) * step
    count = round((end - start) / step)
    return [round(start + i * step, 6) for i in range(count + 1)]


def _tick_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _panel(
    *,
    slug: str,
    title: str,
    unit: str,
    dates: list[str],
    lines: list[tuple[str, str, list[Decimal | int | None]]],
) -> ChartPanel:
    """Lay out one panel: visits evenly spaced left to right, values on a rounded scale."""
    values = [float(v) for _, _, vals in lines for v in vals if v is not None]
    ticks = _nice_ticks(min(values), max(values))
    low, high = ticks[0], ticks[-1]
    span_x = PLOT_RIGHT - PLOT_LEFT
    span_y = PLOT_BOTTOM - PLOT_TOP
    count = len(dates)

    def x_at(index: int) -> float:
        if count == 1:
            return PLOT_LEFT + span_x / 2
        return PLOT_LEFT + span_x * index / (count - 1)

    def y_at(value: float) -> float:
        return PLOT_BOTTOM - span_y * (value - low) / (high - low)

    series = []
    summaries = []
    for name, css_class, vals in lines:
        points = [
            ChartPoint(x_at(i), y_at(float(v)), f"{dates[i]}: {_number_text(v)} {unit}")
            for i, v in enumerate(vals)
            if v is not None
        ]
        if points:
            series.append(ChartSeries(name, css_class, points))
            present = [v for v in vals if v is not None]
            summaries.append(
                f"{name} from {_number_text(present[0])} to {_number_text(present[-1])} {unit}"
            )
    # At most six dates under the axis, spread out, always the first and the last.
    if count <= 6:
        shown = list(range(count))
    else:
        shown = sorted({round(i * (count - 1) / 5) for i in range(6)})
    return ChartPanel(
        slug=slug,
        title=title,
        unit=unit,
        summary=f"{title} over {count} visit{'s' if count != 1 else ''}: "
        + "; ".join(summaries)
        + ".",
        series=series,
        y_ticks=[ChartTick(y_at(t), _tick_text(t)) for t in ticks],
        x_ticks=[ChartTick(x_at(i), dates[i]) for i in shown],
    )


def vitals_chart(*, patient: Patient, membership: Membership) -> VitalsChart | None:
    """Blood pressure and weight over the patient's latest visits, ready to draw as inline SVG
    with a table beside it. None for roles that may not read clinical data (and no query)."""
    if not membership.has_perm(Perm.CLINICAL_VIEW):
        return None
    vitals = vitals_trend(patient=patient)
    if not vitals:
        return VitalsChart()
    tz = membership.clinic.tzinfo
    dates = [format_date(v.recorded_at, tz) for v in vitals]
    rows = [
        VitalsRow(
            date=date,
            blood_pressure=" / ".join(
                _number_text(x) if x is not None else "?" for x in (v.bp_systolic, v.bp_diastolic)
            )
            if v.bp_systolic is not None or v.bp_diastolic is not None
            else "",
            weight=_number_text(v.weight_kg) if v.weight_kg is not None else "",
        )
        for date, v in zip(dates, vitals, strict=True)
    ]
    panels = []
    systolic = [v.bp_systolic for v in vitals]
    diastolic = [v.bp_diastolic for v in vitals]
    if any(x is not None for x in systolic + diastolic):
        panels.append(
            _panel(
                slug="bp",
                title="Blood pressure",
                unit="mmHg",
                dates=dates,
                lines=[
                    ("Systolic", "systolic", systolic),
                    ("Diastolic", "diastolic", diastolic),
                ],
            )
        )
    weights = [v.weight_kg for v in vitals]
    if any(w is not None for w in weights):
        panels.append(
            _panel(
                slug="weight",
                title="Weight",
                unit="kg",
                dates=dates,
                lines=[("Weight", "weight", weights)],
            )
        )
    return VitalsChart(panels=panels, rows=rows)


def patient_care(*, patient: Patient, membership: Membership) -> dict[str, Any]:
    """What the patient page's timeline and vitals partials need, for this member."""
    page = timeline_page(patient=patient, membership=membership)
    return {
        "timeline": page.entries,
        "timeline_truncated": page.truncated,
        "timeline_limit": TIMELINE_LIMIT,
        "vitals_chart": vitals_chart(patient=patient, membership=membership),
    }


# ---------------------------------------------------------------------------------------------
# The drug list page


def drug_list(*, query: str = "", include_inactive: bool = False) -> QuerySet[Drug]:
    """The clinic's drugs whose generic name contains `query` (any case), favourites first,
    then by name, strength and form."""
    drugs = Drug.objects.all()
    if not include_inactive:
        drugs = drugs.filter(is_active=True)
    words = " ".join((query or "").split()).upper()
    if words:
        drugs = drugs.filter(generic_name__contains=words)
    return drugs.order_by("-is_favourite", "generic_name", "strength", "form", "id")


def drug_for_page(*, drug_id: int) -> Drug:
    """One drug of the clinic, active or not (raises Drug.DoesNotExist)."""
    return Drug.objects.get(pk=drug_id)


# ---------------------------------------------------------------------------------------------
# A doctor's prescription templates


# Forms counted in whole units, named after the form when the doctor gave no unit.
_COUNTED_UNITS = {
    DrugForm.TABLET: "tablet",
    DrugForm.CAPSULE: "capsule",
    DrugForm.SACHET: "sachet",
    DrugForm.SUPPOSITORY: "suppository",
    DrugForm.INHALER: "puff",
}


@dataclass(frozen=True)
class TemplateItemRow:
    medicine: str  # PARACETAMOL 500 mg Tablet
    directions: str  # 1 tablet, 1-0-1, after food, for 5 days


@dataclass(frozen=True)
class TemplateRow:
    template: PrescriptionTemplate
    items: list[TemplateItemRow]


def _label(choices: Any, value: Any) -> str:
    return str(choices(value).label) if value in choices.values else str(value or "")


def _template_item_row(item: Any) -> TemplateItemRow:
    item = item if isinstance(item, dict) else {}
    medicine = " ".join(
        p
        for p in (
            str(item.get("generic_name") or "").upper(),
            str(item.get("strength") or ""),
            _label(DrugForm, item.get("form")),
        )
        if p
    )
    parts = []
    amount = str(item.get("dose_amount") or "")
    unit = item.get("dose_unit") or _COUNTED_UNITS.get(item.get("form"), "")
    if unit and amount and amount != "1" and not item.get("dose_unit"):
        unit += "s"
    dose = " ".join(p for p in (amount, unit) if p)
    if dose:
        parts.append(dose)
    if item.get("frequency"):
        parts.append(str(item["frequency"]))
    if item.get("route") and item.get("route") != Route.ORAL:
        parts.append(_label(Route, item["route"]).lower())
    if item.get("timing"):
        parts.append(_label(FoodTiming, item["timing"]).lower())
    days = item.get("duration_days")
    if days:
        parts.append(f"for {days} day{'s' if days != 1 else ''}")
    if item.get("instructions"):
        parts.append(str(item["instructions"]))
    return TemplateItemRow(medicine=medicine or "(no name)", directions=", ".join(parts))


def doctor_template_rows(*, doctor: Membership) -> list[TemplateRow]:
    """The doctor's own templates by name, each with its medicines spelled out. One query."""
    templates = PrescriptionTemplate.objects.filter(doctor=doctor).order_by("name", "id")
    return [
        TemplateRow(template=t, items=[_template_item_row(i) for i in (t.items or [])])
        for t in templates
    ]


def doctor_template(*, doctor: Membership, template_id: int) -> PrescriptionTemplate:
    """One of the doctor's own templates (raises PrescriptionTemplate.DoesNotExist, also for a
    colleague's template)."""
    return PrescriptionTemplate.objects.select_related("doctor").get(pk=template_id, doctor=doctor)
