"""Permission checks for clinic views, read from the one permission matrix."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied


def require_perm(*perms: str):
    """Allow the view only to members whose role has every one of `perms` (else 403)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            membership = getattr(request, "membership", None)
            if membership is None:
                raise RuntimeError(f"{view.__name__} must be routed under /c/<clinic_slug>/")
            if not all(membership.has_perm(p) for p in perms):
                raise PermissionDenied("Your role at this clinic does not allow this.")
            return view(request, *args, **kwargs)

        wrapper.required_perms = perms
        return wrapper

    return decorator
