"""The appointment cards of the day view and the queue's action buttons, from their templates.

A busy clinic day shows a hundred or more cards, and each twice: in the grid, and in the
doctor's list that a phone shows instead. Rendering each card through the template engine
(about 30 tags and values) took twice as long as the rest of the page, so a card is rendered
from templates/patients/schedule/partials/_appointment.html once per kind of card (its status
and which of its parts it shows), with markers where the appointment's own values go; each
card then fills its values, escaped as the template would escape them, into the markers
(`Stamp`). The markup lives only in the templates, and the page places `row.card` twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Mapping
from html import escape
from urllib.parse import quote

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template import Context
from django.template.loader import get_template
from django.utils.safestring import SafeData, SafeString

from clinics.roles import Perm, Role
from clinics.templatetags.vaidya import clinic_reverse
from patients.models import AppointmentStatus
from patients.views.schedule.common import AppointmentRow

CARD_TEMPLATE = "patients/schedule/partials/_appointment.html"
ACTIONS_TEMPLATE = "patients/schedule/partials/_appointment_actions.html"
ACTION_FIELDS_TEMPLATE = "patients/schedule/partials/_action_fields.html"

# The URL name of each action a card may offer, by the row's `can_<action>` flag.
ACTIONS = {
    "check_in": "appointment-check-in",
    "start": "appointment-start",
    "complete": "appointment-complete",
    "reopen": "appointment-reopen",
    "slip": "appointment-slip",
    "reschedule": "appointment-reschedule",
    "cancel": "appointment-cancel",
    "no_show": "appointment-no-show",
}
# A card's own values: filled into the markup of its kind of card.
CARD_VALUES = (
    "time",
    "token",
    "patient_url",
    "patient_name",
    "patient_number",
    "reason",
    "cancel_reason",
    *(f"{action}_url" for action in ACTIONS),
)

# An id no appointment or patient has: a URL is reversed once with it, then given real ids.
_STAND_IN = 7_919_000_001
# Marks where a value goes in a rendered template: nothing else on a page can hold it (the
# rest of the context, such as the page's own URL, is what a visitor may choose).
_MARK = f"\x00{secrets.token_hex(8)}\x00"


class Stamp:
    """A template rendered once per kind of item, with each item's own values filled in.

    `values` are the template's context. Those named in `own` (strings: a card's time, name
    or links) differ from item to item; the template must show them as they are (no filter,
    no comparison, only `{% if value %}`). The rest (a status, what may be done) decide the
    kind of item: each kind is rendered once, with a marker for every own value that is set.
    """

    def __init__(self, template_name: str, context: Context, own: Collection[str]) -> None:
        self.template = get_template(template_name).template
        self.context = context
        self.own = frozenset(own)
        self.kinds: dict[tuple, tuple[list[str], list[str]]] = {}

    def render(self, values: Mapping[str, object]) -> SafeString:
        own = self.own
        kind = tuple(bool(v) if k in own else v for k, v in values.items())
        found = self.kinds.get(kind)
        if found is None:
            found = self.kinds[kind] = self._render_kind(values)
        texts, names = found
        parts = [texts[0]]
        for name, text in zip(names, texts[1:], strict=True):
            value = values[name]
            # What the template's autoescape does (Django's escape is html.escape), without
            # its lazy-string wrapper: a page fills in about a thousand values.
            parts.append(value if isinstance(value, SafeData) else escape(str(value)))
            parts.append(text)
        return SafeString("".join(parts))

    def _render_kind(self, values: Mapping[str, object]) -> tuple[list[str], list[str]]:
        marked = {k: f"{_MARK}{k}{_MARK}" if k in self.own and v else v for k, v in values.items()}
        with self.context.push(marked):
            html = self.template.render(self.context).strip()
        pieces = html.split(_MARK)
        # Text, then a value's name and the text after it, and so on.
        return pieces[0::2], pieces[1::2]


def _url_for_id(name: str, slug: str) -> Callable[[int], str]:
    """This clinic's URL `name` for any object id, reversed once."""
    before, found, after = clinic_reverse(name, slug, _STAND_IN).partition(str(_STAND_IN))
    if not found or str(_STAND_IN) in after:
        # The clinic's slug holds the stand-in: reverse each one.
        return lambda pk: clinic_reverse(name, slug, pk)
    return lambda pk: f"{before}{int(pk)}{after}"


def action_context(request: HttpRequest, next_url: str) -> Context:
    """What the action buttons of every card on a page share: the forms' hidden fields (with
    the page to come back to) and that page's URL for the cancel links' query."""
    fields = get_template(ACTION_FIELDS_TEMPLATE).template.render(
        Context({"csrf_token": get_token(request), "next_url": next_url})
    )
    return Context(
        {
            "action_fields": SafeString(fields.strip()),
            # As the template filter |urlencode writes it.
            "next_query": quote(next_url, safe="/"),
        }
    )


class Cards:
    """The cards (or only the action buttons) of one page's appointments.

    Rendered with the engine's own templates and one plain context: the backend's render()
    would run the page's context processors again for every card.
    """

    def __init__(self, request: HttpRequest, *, can_edit: bool, next_url: str) -> None:
        slug = request.clinic.slug
        self.can_edit = can_edit
        self.patient_url = (
            _url_for_id("patient-detail", slug)
            if request.membership.has_perm(Perm.PATIENTS_VIEW)
            else None
        )
        membership = request.membership
        names = dict(ACTIONS)
        if membership.has_perm(Perm.CLINICAL_DRAFT):
            # Whoever opens visits calls a patient in straight into the visit.
            names["start"] = "appointment-call-in"
        self.action_urls = {action: _url_for_id(name, slug) for action, name in names.items()}
        # A finished consultation is reopened by its doctor or the owner.
        self.reopens_any = membership.role == Role.OWNER
        self.member_id = membership.pk
        context = action_context(request, next_url)
        self.cards = Stamp(CARD_TEMPLATE, context, CARD_VALUES)
        self.actions = Stamp(ACTIONS_TEMPLATE, context, CARD_VALUES)

    def values(self, row: AppointmentRow) -> dict[str, object]:
        """What partials/_appointment.html shows of one row."""
        a = row.appointment
        pk = a.pk
        return {
            "status": a.status,
            "status_label": a.get_status_display(),
            "is_walk_in": row.is_walk_in,
            "time": row.time,
            "token": row.token,
            "patient_url": self.patient_url(a.patient_id) if self.patient_url else "",
            "patient_name": a.patient.full_name,
            "patient_number": a.patient.patient_number,
            "reason": row.reason,
            "cancel_reason": a.cancel_reason if a.status == AppointmentStatus.CANCELLED else "",
            # The patient pressed Confirm on WhatsApp (cleared when the appointment moves).
            "confirmed": a.status == AppointmentStatus.BOOKED
            and getattr(a, "patient_confirmed_at", None) is not None,
            "actions": self.can_edit and not row.is_closed,
            "more": row.has_more,
            **{
                f"{action}_url": url(pk) if getattr(row, f"can_{action}") else ""
                for action, url in self.action_urls.items()
            },
        } | self._reopen(row)

    def _reopen(self, row: AppointmentRow) -> dict[str, str]:
        if row.can_reopen and (self.reopens_any or row.appointment.doctor_id == self.member_id):
            return {}
        return {"reopen_url": ""}

    def card(self, row: AppointmentRow) -> SafeString:
        """The row's card, as partials/_appointment.html renders it."""
        return self.cards.render(self.values(row))

    def actions_of(self, row: AppointmentRow) -> SafeString:
        """Only the row's action buttons, as partials/_appointment_actions.html renders them."""
        return self.actions.render(self.values(row))
