"""The staff navigation leads to the certificate register and the consent forms, for the roles
that may open them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinics.roles import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "certificates", "consent_forms"),
    [
        (Role.DOCTOR, True, True),
        (Role.ASSISTANT, True, False),
        (Role.FRONT_DESK, False, False),
        (Role.BILLING, False, False),
    ],
)
def test_menu_links_follow_the_permission_matrix(
    clinic, member_factory, client_for, role, certificates, consent_forms
):
    html = client_for(member_factory(clinic, role)).get(reverse("dashboard", args=[clinic.slug]))
    html = html.content.decode()
    register = reverse("certificate-register", args=[clinic.slug])
    forms = reverse("consent-templates", args=[clinic.slug])
    assert (f'href="{register}"' in html) is certificates
    assert (f'href="{forms}"' in html) is consent_forms
    if certificates:
        assert client_for(member_factory(clinic, role)).get(register).status_code == 200
