"""Resolve and authorise the clinic before any API handler runs."""

from __future__ import annotations

from rest_framework import exceptions, permissions

from clinics.models import ApiKey
from clinics.selectors import membership_for


class ClinicPermission(permissions.BasePermission):
    """Find the caller's clinic and check the view's required permission for this method.

    An API key belongs to one clinic. A signed-in user names the clinic with the `X-Clinic`
    header (its short name), else the clinic they last opened; a clinic they are not a member
    of answers 404. Views declare `required_perms = {"GET": perm, "POST": perm, ...}`.
    """

    def has_permission(self, request, view) -> bool:
        principal = request.user
        if isinstance(principal, ApiKey):
            request.clinic = principal.clinic
            request.actor = principal
            perms = principal.perms
        elif principal is not None and principal.is_authenticated:
            slug = request.headers.get("X-Clinic") or request.session.get("last_clinic")
            if not slug:
                raise exceptions.PermissionDenied(
                    "Name the clinic with the X-Clinic header (its short name)."
                )
            membership = membership_for(principal, slug)
            if membership is None:
                raise exceptions.NotFound("No such clinic.")
            if membership.clinic.require_two_factor and not principal.is_verified():
                raise exceptions.PermissionDenied("This clinic requires two-factor sign-in.")
            request.clinic = membership.clinic
            request.membership = membership
            request.actor = principal
            perms = membership.perms
        else:
            raise exceptions.NotAuthenticated("Send an API key: Authorization: Bearer vdy_...")
        request.perms = perms
        required = getattr(view, "required_perms", None)
        if required is None:
            raise exceptions.PermissionDenied("This endpoint declares no permission.")
        needed = required.get(request.method) or (
            required.get("GET") if request.method in ("HEAD", "OPTIONS") else None
        )
        if needed is None:
            # A method the view does not implement answers 405 (its handler says so); one it
            # implements without declaring a permission is refused.
            return request.method == "OPTIONS" or not hasattr(view, request.method.lower())
        if (
            isinstance(principal, ApiKey)
            and principal.read_only
            and request.method
            not in (
                "GET",
                "HEAD",
                "OPTIONS",
            )
        ):
            raise exceptions.PermissionDenied("This API key is read-only.")
        if needed not in perms:
            raise exceptions.PermissionDenied("Your role at this clinic does not allow this.")
        return True
