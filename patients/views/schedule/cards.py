"""The appointment card of the day view, built in Python.

A busy clinic day shows a hundred or more cards, each with its actions; rendered through the
template engine they took two thirds of the page's time. This builds the same markup as
templates/patients/schedule/partials/_appointment.html (kept for the other pages) with
format_html, which escapes every value.
"""

from __future__ import annotations

from urllib.parse import quote

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from clinics.roles import Perm
from clinics.templatetags.vaidya import clinic_reverse
from patients.views.schedule.common import AppointmentRow


class CardRenderer:
    """Builds cards for one request: the CSRF token, the links and permissions are shared."""

    def __init__(self, request: HttpRequest, *, can_edit: bool, next_url: str) -> None:
        self.slug = request.clinic.slug
        self.can_edit = can_edit
        self.can_view_patients = request.membership.has_perm(Perm.PATIENTS_VIEW)
        self.next_url = next_url
        self._hidden = format_html(
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="next" value="{}">',
            get_token(request),
            next_url,
        )

    def _post(self, name: str, pk: int, label: str, css: str = "") -> SafeString:
        return format_html(
            '<form method="post" action="{}">{}<button type="submit"{}>{}</button></form>',
            clinic_reverse(name, self.slug, pk),
            self._hidden,
            mark_safe(f' class="{css}"') if css else "",  # noqa: S308 (a constant)
            label,
        )

    def _actions(self, row: AppointmentRow) -> SafeString:
        a = row.appointment
        parts = []
        if row.can_check_in:
            parts.append(self._post("appointment-check-in", a.pk, "Check in"))
        if row.can_start:
            parts.append(self._post("appointment-start", a.pk, "Call in"))
        if row.can_complete:
            parts.append(self._post("appointment-complete", a.pk, "Complete"))
        if row.has_more:
            more = []
            if row.can_reschedule:
                more.append(
                    format_html(
                        '<a role="button" class="secondary outline" href="{}">Reschedule</a>',
                        clinic_reverse("appointment-reschedule", self.slug, a.pk),
                    )
                )
            if row.can_cancel:
                more.append(
                    format_html(
                        '<a role="button" class="secondary outline" href="{}?next={}">Cancel…</a>',
                        clinic_reverse("appointment-cancel", self.slug, a.pk),
                        quote(self.next_url, safe="/"),  # as the template's |urlencode
                    )
                )
            if row.can_no_show:
                more.append(
                    self._post("appointment-no-show", a.pk, "Did not come", "secondary outline")
                )
            parts.append(
                format_html(
                    '<details class="more"><summary>More</summary>'
                    '<div class="more-actions">{}</div></details>',
                    mark_safe("".join(more)),  # noqa: S308 (built with format_html)
                )
            )
        return format_html(
            '<div class="appt-actions">{}</div>',
            mark_safe("".join(parts)),  # noqa: S308 (built with format_html)
        )

    def card(self, row: AppointmentRow) -> SafeString:
        """One appointment: time, token, patient, status and the actions that fit now."""
        a = row.appointment
        patient = a.patient
        if self.can_view_patients:
            name = format_html(
                '<a href="{}">{}</a>',
                clinic_reverse("patient-detail", self.slug, a.patient_id),
                patient.full_name,
            )
        else:
            name = format_html("{}", patient.full_name)
        extras = []
        if a.reason:
            extras.append(format_html('<small class="appt-reason">{}</small>', a.reason))
        if a.cancel_reason and a.status == "cancelled":
            extras.append(
                format_html('<small class="muted">Cancelled: {}</small>', a.cancel_reason)
            )
        if self.can_edit and not row.is_closed:
            extras.append(self._actions(row))
        html = format_html(
            '<div class="appt st-{status}"><div class="appt-head">'
            '<strong class="appt-time">{time}</strong>{token}'
            '<span class="badge st-{status}">{status_label}</span></div>'
            '<div class="appt-patient">{name} <small class="muted">{number}</small></div>'
            "{extras}</div>",
            status=a.status,
            time=f"Walk-in {row.time}" if row.is_walk_in else row.time,
            token=format_html(
                '<span class="token" title="Token number">Token {}</span>', a.token_number
            )
            if a.token_number
            else "",
            status_label=a.get_status_display(),
            name=name,
            number=patient.patient_number,
            extras=format_html_join("", "{}", ((e,) for e in extras)),
        )
        return html
