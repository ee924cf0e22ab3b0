"""Clinic-level pages: signing in, the clinic switcher, dashboard, staff, invitations, clinic
settings, API keys, the audit trail and sign-in security.

Views parse input, check permission and call one service (writes) or selectors (reads).
Clinic pages run inside the clinic's scope (ClinicScopeMiddleware) and read `request.clinic`
and `request.membership`; the URL modules import the submodules directly.
"""

from clinics.views.main import (
    bad_request,
    clinic_switch,
    csrf_failure,
    dashboard,
    home,
    not_found,
    server_error,
)

__all__ = [
    "bad_request",
    "clinic_switch",
    "csrf_failure",
    "dashboard",
    "home",
    "not_found",
    "server_error",
]
