"""Resolve and authorise the clinic before any API handler runs."""

from __future__ import annotations

from rest_framework import exceptions, permissions

from clinics.actors import Access, access_for_key, access_for_member
from clinics.guards import write_refusal
from clinics.models import ApiKey
from clinics.selectors import membership_for
from clinics.tenancy import clinic_scope

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _caller_access(request) -> Access:
    """The caller's access at their clinic: an API key's own clinic, or the clinic a signed-in
    user names with the `X-Clinic` header (its short name), else the one they last opened."""
    principal = request.user
    if isinstance(principal, ApiKey):
        return access_for_key(principal)
    if principal is None or not principal.is_authenticated:
        raise exceptions.NotAuthenticated("Send an API key: Authorization: Bearer vdy_...")
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
    return access_for_member(membership, principal)


def _needed_perm(request, view) -> str | None:
    required = getattr(view, "required_perms", None)
    if required is None:
        raise exceptions.PermissionDenied("This endpoint declares no permission.")
    return required.get(request.method) or (
        required.get("GET") if request.method in ("HEAD", "OPTIONS") else None
    )


class ClinicPermission(permissions.BasePermission):
    """Find the caller's clinic and check the view's required permission for this method.

    The caller is resolved once (`clinics.actors.Access`) and kept on the request:
    `request.access`, with `request.clinic`, `request.actor` (the user or the key),
    `request.membership` (a user's) and `request.perms` for the views. An API key belongs to one
    clinic; a clinic a user is not a member of answers 404. Views declare
    `required_perms = {"GET": perm, "POST": perm, ...}`.
    """

    def has_permission(self, request, view) -> bool:
        access = _caller_access(request)
        request.access = access
        request.actor = access.actor
        request.perms = access.perms
        if access.membership is not None:
            request.membership = access.membership
            request.clinic = access.membership.clinic
        else:
            request.clinic = access.actor.clinic
        needed = _needed_perm(request, view)
        if needed is None:
            # A method the view does not implement answers 405 (its handler says so); one it
            # implements without declaring a permission is refused.
            return request.method == "OPTIONS" or not hasattr(view, request.method.lower())
        if access.read_only and request.method not in SAFE_METHODS:
            raise exceptions.PermissionDenied("This API key is read-only.")
        if not access.has(needed):
            raise exceptions.PermissionDenied("Your role at this clinic does not allow this.")
        if request.method not in SAFE_METHODS:
            with clinic_scope(request.clinic):
                reason = write_refusal(request.clinic.pk)
            if reason:
                raise exceptions.PermissionDenied(reason)
        return True
