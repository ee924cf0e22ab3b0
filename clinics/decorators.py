"""Permission checks for clinic views, read from the one permission matrix (through the
member's `Access`, see `clinics/actors.py`)."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied


def require_perm(*perms: str, or_own: str | None = None):
    """Allow the view only to members whose role has every one of `perms` (else 403).

    `or_own` names a URL kwarg holding a membership id: members may also open the view for
    their own membership (a doctor editing their own registration details).
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            access = getattr(request, "access", None)
            if access is None:
                raise RuntimeError(f"{view.__name__} must be routed under /c/<clinic_slug>/")
            membership = access.membership
            allowed = all(access.has(p) for p in perms)
            if not allowed and or_own is not None:
                allowed = membership.is_active and kwargs.get(or_own) == membership.pk
            if not allowed:
                raise PermissionDenied("Your role at this clinic does not allow this.")
            return view(request, *args, **kwargs)

        wrapper.required_perms = perms
        wrapper.or_own = or_own
        return wrapper

    return decorator
