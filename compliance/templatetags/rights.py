"""The patient page's "Data requests" box: `{% load rights %}{% patient_rights_requests patient %}`.

The patients app's template loads this tag rather than its Python importing `compliance`
(dependencies point one way); the box shows only to members who may record requests.
"""

from __future__ import annotations

from django import template

from clinics.roles import Perm
from compliance.rights.selectors import patient_open_requests

register = template.Library()


@register.inclusion_tag("compliance/rights/partials/_patient_open.html", takes_context=True)
def patient_rights_requests(context, patient) -> dict:
    membership = context.get("membership")
    allowed = membership is not None and membership.has_perm(Perm.RIGHTS_RECORD)
    return {
        "patient": patient,
        "requests": patient_open_requests(patient.pk) if allowed else [],
        "show": allowed,
        "clinic": context.get("clinic"),
        "request": context.get("request"),
        "membership": membership,
    }
