"""Every route, for every role: allowed exactly what the permission matrix allows.

Web views declare their permissions with `@require_perm` and API views with `required_perms`;
this walk reads those declarations from the URL configuration, so routes added later are
checked automatically, and compares each answer with `clinics.roles.role_has`.
"""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from clinics.roles import Role, role_has
from tests.factories import make_api_key
from tests.test_tenancy_walk import _objects_of, _routes, _url_for

WRITE_METHODS = ("post", "patch", "put", "delete")


def _person_only(pattern) -> set[str]:
    """Methods an API view refuses to API keys because its services act as a person."""
    callback = pattern.callback
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    return {m.lower() for m in getattr(view_class, "person_only_methods", ())}


def _view_perms(pattern) -> dict[str, tuple[str, ...]]:
    """{method: permissions needed} for a route, from the view's own declaration."""
    callback = pattern.callback
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    declared = getattr(view_class, "required_perms", None)
    if isinstance(declared, dict):
        return {m.lower(): (p,) for m, p in declared.items()}
    perms = tuple(getattr(callback, "required_perms", ()))
    return {"get": perms, "post": perms}


@pytest.fixture
def clinic_a(clinic, member_factory):
    owner = member_factory(clinic, Role.OWNER)
    return clinic, owner


@pytest.mark.parametrize("role", list(Role))
def test_web_pages_follow_the_matrix(clinic_a, member_factory, role):
    clinic, owner = clinic_a
    objects = _objects_of(clinic, owner)
    member = owner if role == Role.OWNER else member_factory(clinic, role)
    client = Client()
    client.force_login(member.user)
    checked = 0
    for route, pattern in _routes():
        if not route.startswith("c/"):
            continue
        built = _url_for(pattern, route, objects, clinic_slug=clinic.slug)
        if built is None:
            continue
        url, _ = built
        for method, perms in _view_perms(pattern).items():
            response = getattr(client, method)(url)
            if response.status_code == 405:
                continue  # this view does not answer this method at all
            allowed = all(role_has(role, p) for p in perms)
            if allowed:
                assert response.status_code != 403, f"{role} {method.upper()} {url} refused"
            else:
                assert response.status_code == 403, (
                    f"{role} {method.upper()} {url} -> {response.status_code}, needs {perms}"
                )
            checked += 1
    assert checked > 10


@pytest.mark.parametrize("role", list(Role))
def test_api_follows_the_matrix(clinic_a, role):
    clinic, owner = clinic_a
    objects = _objects_of(clinic, owner)
    _, token = make_api_key(clinic, role=role, read_only=False)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    checked = 0
    for route, pattern in _routes():
        if not route.startswith("api/v1/"):
            continue
        built = _url_for(pattern, route, objects, clinic_slug=clinic.slug)
        if built is None:
            continue
        url, _ = built
        person_only = _person_only(pattern)
        for method, perms in _view_perms(pattern).items():
            response = getattr(api, method)(url, {}, format="json")
            if method in person_only:
                # A key is not a person: refused whatever its role (the session walk below
                # checks these methods against the matrix).
                assert response.status_code == 403, f"{role} {method.upper()} {url} by a key"
                assert response.json()["type"] == "permission_error"
                checked += 1
                continue
            allowed = all(role_has(role, p) for p in perms)
            if allowed:
                assert response.status_code != 403, f"{role} {method.upper()} {url} refused"
            else:
                assert response.status_code == 403, (
                    f"{role} {method.upper()} {url} -> {response.status_code}, needs {perms}"
                )
                assert response.json()["type"] == "permission_error"
            checked += 1
    assert checked > 5


@pytest.mark.parametrize("role", list(Role))
def test_api_person_only_methods_follow_the_matrix_for_signed_in_staff(
    clinic_a, member_factory, role
):
    clinic, owner = clinic_a
    objects = _objects_of(clinic, owner)
    member = owner if role == Role.OWNER else member_factory(clinic, role)
    api = APIClient()
    api.force_login(member.user)
    checked = 0
    for route, pattern in _routes():
        if not route.startswith("api/v1/"):
            continue
        built = _url_for(pattern, route, objects, clinic_slug=clinic.slug)
        if built is None:
            continue
        url, _ = built
        person_only = _person_only(pattern)
        for method, perms in _view_perms(pattern).items():
            if method not in person_only:
                continue
            response = getattr(api, method)(url, {}, format="json", HTTP_X_CLINIC=clinic.slug)
            if all(role_has(role, p) for p in perms):
                assert response.status_code != 403, f"{role} {method.upper()} {url} refused"
            else:
                assert response.status_code == 403, f"{role} {method.upper()} {url}"
                assert response.json()["type"] == "permission_error"
            checked += 1
    assert checked >= 1


@pytest.mark.parametrize("role", list(Role))
def test_read_only_keys_never_write(clinic_a, role):
    clinic, owner = clinic_a
    objects = _objects_of(clinic, owner)
    _, token = make_api_key(clinic, role=role, read_only=True)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    for route, pattern in _routes():
        if not route.startswith("api/v1/"):
            continue
        built = _url_for(pattern, route, objects, clinic_slug=clinic.slug)
        if built is None:
            continue
        url, _ = built
        for method in _view_perms(pattern):
            if method in WRITE_METHODS:
                response = getattr(api, method)(url, {}, format="json")
                assert response.status_code == 403, f"{method.upper()} {url}"
