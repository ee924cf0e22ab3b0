"""The day view's markup built in Python: the appointment cards and the grid's rows.

A busy clinic day shows a hundred or more cards (each twice: in the grid and in the phone's
lists), each with its actions, and a grid of about 40 rows by 5 doctors; rendered through the
template engine they took most of the page's time. This builds the same markup as the
templates that describe it, with format_html, which escapes every value:

- a card: templates/patients/schedule/partials/_appointment.html;
- the grid's rows: templates/patients/schedule/partials/_grid_rows.html;
- a doctor's list (the doctor's day, and the clinic's day on a phone):
  templates/patients/schedule/partials/_agenda_entries.html.

Tests hold the two to each other (tests/patients/test_views_schedule.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import quote

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString, mark_safe

from clinics.roles import Perm
from clinics.templatetags.vaidya import clinic_reverse
from patients.models import AppointmentStatus
from patients.views.schedule.common import AppointmentRow, SlotLink

if TYPE_CHECKING:
    from patients.views.schedule.day import AgendaEntry, GridRow

# An id no appointment or patient has: markup is built once with it, then filled in.
_STAND_IN = 7_919_000_001


def format_html(format_string: str, *args: object, **kwargs: object) -> SafeString:
    """Django's format_html without its lazy-string machinery.

    The same escaping (html.escape on every value not already marked safe, which is what
    Django's escape does), at a third of the cost: a busy day view calls it about 600 times.
    """
    return SafeString(
        format_string.format(
            *[a if isinstance(a, SafeData) else escape(str(a)) for a in args],
            **{k: v if isinstance(v, SafeData) else escape(str(v)) for k, v in kwargs.items()},
        )
    )


def _per_id(build: Callable[[int], SafeString]) -> Callable[[int], SafeString]:
    """Markup that differs from card to card only by an appointment's or a patient's id.

    `build(pk)` makes it with format_html. It runs once, with a stand-in id; each card then
    puts its id where the stand-in was (an int: nothing to escape). Hundreds of cards link to
    the same few views, and this is a tenth of the cost of building each link.
    """
    fragment = build(_STAND_IN)
    before, found, after = fragment.partition(str(_STAND_IN))
    if not found or str(_STAND_IN) in after:
        # The stand-in also appears elsewhere (the clinic's slug, the page's own URL): build
        # each one in full.
        return build
    return lambda pk: SafeString(f"{before}{int(pk)}{after}")


def _joined(parts: Iterable[SafeString]) -> SafeString:
    """Markup pieces (each built with format_html) side by side."""
    # SafeString() is what mark_safe() returns, without its check for lazy strings: this runs
    # thousands of times a page.
    return SafeString("".join(parts))


# What every card repeats, escaped once.
_NOTHING = mark_safe("")
_WALK_IN = mark_safe("Walk-in ")
_STATUSES = {value: conditional_escape(value) for value in AppointmentStatus.values}
_STATUS_LABELS = {value: conditional_escape(label) for value, label in AppointmentStatus.choices}


class CardRenderer:
    """Builds cards for one request: the CSRF token, the links and permissions are shared."""

    def __init__(self, request: HttpRequest, *, can_edit: bool, next_url: str) -> None:
        slug = request.clinic.slug
        self.can_edit = can_edit
        self.can_view_patients = request.membership.has_perm(Perm.PATIENTS_VIEW)
        self.next_url = next_url
        hidden = format_html(
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="next" value="{}">',
            get_token(request),
            next_url,
        )

        def post(name: str, label: str, css: str = "") -> Callable[[int], SafeString]:
            button = (
                format_html('<button type="submit" class="{}">{}</button>', css, label)
                if css
                else format_html('<button type="submit">{}</button>', label)
            )
            return _per_id(
                lambda pk: format_html(
                    '<form method="post" action="{}">{}{}</form>',
                    clinic_reverse(name, slug, pk),
                    hidden,
                    button,
                )
            )

        self._check_in = post("appointment-check-in", "Check in")
        self._start = post("appointment-start", "Call in")
        self._complete = post("appointment-complete", "Complete")
        self._no_show = post("appointment-no-show", "Did not come", "secondary outline")
        self._reschedule = _per_id(
            lambda pk: format_html(
                '<a role="button" class="secondary outline" href="{}">Reschedule</a>',
                clinic_reverse("appointment-reschedule", slug, pk),
            )
        )
        self._cancel = _per_id(
            lambda pk: format_html(
                '<a role="button" class="secondary outline" href="{}?next={}">Cancel…</a>',
                clinic_reverse("appointment-cancel", slug, pk),
                quote(next_url, safe="/"),  # as the template's |urlencode
            )
        )
        self._patient_url = _per_id(
            lambda pk: conditional_escape(clinic_reverse("patient-detail", slug, pk))
        )

    def _actions(self, row: AppointmentRow) -> SafeString:
        pk = row.appointment.pk
        parts = []
        if row.can_check_in:
            parts.append(self._check_in(pk))
        if row.can_start:
            parts.append(self._start(pk))
        if row.can_complete:
            parts.append(self._complete(pk))
        if row.has_more:
            more = []
            if row.can_reschedule:
                more.append(self._reschedule(pk))
            if row.can_cancel:
                more.append(self._cancel(pk))
            if row.can_no_show:
                more.append(self._no_show(pk))
            return format_html(
                '<div class="appt-actions">{}<details class="more"><summary>More</summary>'
                '<div class="more-actions">{}</div></details></div>',
                _joined(parts),
                _joined(more),
            )
        return format_html('<div class="appt-actions">{}</div>', _joined(parts))

    def card(self, row: AppointmentRow) -> SafeString:
        """One appointment: time, token, patient, status and the actions that fit now."""
        a = row.appointment
        patient = a.patient
        if self.can_view_patients:
            name = format_html(
                '<a href="{}">{}</a>', self._patient_url(a.patient_id), patient.full_name
            )
        else:
            name = patient.full_name
        extras = []
        if a.reason:
            extras.append(format_html('<small class="appt-reason">{}</small>', a.reason))
        if a.cancel_reason and a.status == AppointmentStatus.CANCELLED:
            extras.append(
                format_html('<small class="muted">Cancelled: {}</small>', a.cancel_reason)
            )
        if self.can_edit and not row.is_closed:
            extras.append(self._actions(row))
        return format_html(
            '<div class="appt st-{status}"><div class="appt-head">'
            '<strong class="appt-time">{walk_in}{time}</strong>{token}'
            '<span class="badge st-{status}">{status_label}</span></div>'
            '<div class="appt-patient">{name} <small class="muted">{number}</small></div>'
            "{extras}</div>",
            status=_STATUSES.get(a.status) or a.status,
            walk_in=_WALK_IN if row.is_walk_in else _NOTHING,
            time=row.time,
            token=format_html(
                '<span class="token" title="Token number">Token {}</span>', a.token_number
            )
            if a.token_number
            else _NOTHING,
            status_label=_STATUS_LABELS.get(a.status) or a.get_status_display(),
            name=name,
            number=patient.patient_number,
            extras=_joined(extras),
        )


# --- the grid's rows and a doctor's list ---------------------------------------------------------


_BOOK = mark_safe("Book ")
_FREE = mark_safe("Free ")


def _slot(slot: SlotLink, *, can_edit: bool, in_grid: bool) -> SafeString:
    """A free time: a link to book it for who may book, else its time. In the grid, where it
    sits among appointments, it says which it is."""
    if can_edit:
        return format_html(
            '<a class="slot" href="{}" aria-label="{}">{}{}</a>',
            slot.book_url,
            slot.label,
            _BOOK if in_grid else _NOTHING,
            slot.time,
        )
    return format_html('<span class="slot">{}{}</span>', _FREE if in_grid else _NOTHING, slot.time)


def grid_rows_html(grid: list[GridRow], *, can_edit: bool, column_count: int) -> SafeString:
    """The clinic day grid's <tr> rows, as partials/_grid_rows.html writes them."""
    gap = format_html(
        '<td colspan="{}"><small class="muted">No sessions</small></td>', column_count
    )
    # Most cells of a day are empty: build those once per state.
    empty: dict[str, SafeString] = {}
    rows = []
    for row in grid:
        if row.gap:
            rows.append(
                format_html('<tr class="gap"><th scope="row">{}</th>{}</tr>', row.label, gap)
            )
            continue
        cells = []
        for cell in row.cells:
            if cell.empty and not cell.note:
                if cell.state not in empty:
                    empty[cell.state] = format_html('<td class="cell {}"></td>', cell.state)
                cells.append(empty[cell.state])
                continue
            # The spaces stand for the template's line breaks: a leave label and the free
            # times after it are inline, and a space separates them.
            cells.append(
                format_html(
                    '<td class="cell {}">{} {} {}</td>',
                    cell.state,
                    format_html('<small class="leave-label">{}</small>', cell.note)
                    if cell.note
                    else _NOTHING,
                    _joined(r.card for r in cell.rows),
                    _joined(_slot(s, can_edit=can_edit, in_grid=True) for s in cell.slots),
                )
            )
        rows.append(
            format_html(
                '<tr><th scope="row" class="time-col">{}</th>{}</tr>', row.label, _joined(cells)
            )
        )
    return _joined(rows)


def agenda_html(agenda: list[AgendaEntry], *, can_edit: bool) -> SafeString:
    """One doctor's day as a list, as partials/_agenda_entries.html writes it."""
    free_note = format_html(
        '<small class="muted">Free{}:</small>', ", tap to book" if can_edit else ""
    )
    parts = []
    for entry in agenda:
        if entry.kind == "appointment":
            parts.append(entry.row.card)
        elif entry.kind == "free":
            parts.append(
                format_html(
                    '<div class="free-run">{}<div class="slot-links">{}</div></div>',
                    free_note,
                    _joined(_slot(s, can_edit=can_edit, in_grid=False) for s in entry.slots),
                )
            )
        else:
            parts.append(format_html('<p class="leave-note">{}</p>', entry.text))
    return _joined(parts)
