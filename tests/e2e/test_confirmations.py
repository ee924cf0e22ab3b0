"""Forms that ask "are you sure?" do ask, in a browser under Vaidya's strict script policy."""

from __future__ import annotations

import re

import pytest

from clinics.roles import Role
from clinics.tenancy import clinic_scope
from messaging.models import AccountStatus, WhatsAppAccount
from tests.e2e.test_front_desk import sign_in
from tests.factories import ClinicFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def owner_with_whatsapp():
    clinic = ClinicFactory(name="Asha Family Clinic", slug="asha")
    user = UserFactory(email="owner@asha.example", full_name="Anita Rao")
    MembershipFactory(clinic=clinic, user=user, role=Role.OWNER)
    with clinic_scope(clinic):
        account = WhatsAppAccount.objects.create(
            clinic=clinic,
            phone_number_id="109876543210001",
            business_account_id="209876543210001",
            display_number="+91 80 4000 1234",
            access_token="EAAGconfirmTestToken",
            app_secret="confirm-secret",
            verify_token="confirm-verify",
        )
    return clinic, account


def status_of(account) -> str:
    with clinic_scope(account.clinic_id):
        return WhatsAppAccount.objects.get(pk=account.pk).status


def test_disconnecting_whatsapp_asks_first(page, live_server, owner_with_whatsapp):
    _clinic, account = owner_with_whatsapp
    sign_in(page, live_server, "owner@asha.example")
    page.goto(f"{live_server.url}/c/asha/messages/settings/")
    asked = []

    # "Cancel": nothing is sent.
    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Disconnect WhatsApp").click()
    page.wait_for_timeout(300)
    assert asked and asked[0].startswith("Disconnect WhatsApp?")
    assert status_of(account) != AccountStatus.DISCONNECTED

    # "OK": disconnected.
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="Disconnect WhatsApp").click()
    assert re.search(r"/messages/settings/", page.url)
    assert status_of(account) == AccountStatus.DISCONNECTED
