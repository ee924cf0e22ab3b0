"""The registries through which higher apps plug into clinics (clinics/registry.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import reverse

from clinics.registry import (
    DashboardPanel,
    Registry,
    dashboard_panels,
    demo_steps,
    patient_directory,
    usage_counters,
)
from clinics.roles import Perm, Role


@dataclass(frozen=True)
class Item:
    name: str
    order: int


def test_a_registry_reads_in_order_and_a_name_registered_again_replaces_its_entry():
    registry: Registry[Item] = Registry("items")
    registry.register(Item("b", 20))
    registry.register(Item("a", 30))
    registry.register(Item("c", 10))
    registry.register(Item("a", 5))  # ready() running twice, or a deliberate override
    assert [(i.name, i.order) for i in registry] == [("a", 5), ("c", 10), ("b", 20)]
    assert registry.first() == Item("a", 5)
    registry.unregister("a")
    assert len(registry) == 2
    assert Registry("empty").first() is None


def test_the_installed_apps_fill_the_registries_in_dependency_order():
    assert [p.name for p in dashboard_panels] == [
        "clinics.plan_limits",
        "patients.patients",
        "clinics.staff",
        "compliance.rights_overdue",
        "clinics.audit",
        "clinics.backups",
    ]
    assert [s.name for s in demo_steps] == [
        "clinics.staff",
        "patients.patients",
        "patients.clinic_day",
        "messaging.whatsapp",
        "billing.bills",
        "billing.razorpay",
    ]
    assert [d.name for d in patient_directory] == ["patients.patients"]
    assert [(c.name, c.resource) for c in usage_counters] == [
        ("patients.documents", "storage_mb"),
        ("messaging.media", "storage_mb"),
        ("messaging.messages", "whatsapp_messages"),
        ("billing.bill_pdfs", "storage_mb"),
    ]


@pytest.fixture
def extra_panel():
    loaded = []

    def load(*, clinic, membership, today):
        loaded.append(membership.role)
        return {"staff_count": 987_654_321, "open_invitations": 0}

    panel = DashboardPanel(
        name="tests.extra",
        order=50,
        perm=Perm.STAFF_MANAGE,
        load=load,
        figures_template="clinics/partials/_dashboard_staff.html",
    )
    dashboard_panels.register(panel)
    yield loaded
    dashboard_panels.unregister(panel.name)


def test_a_registered_panel_shows_only_to_members_with_its_permission(
    client_for, clinic, owner, member_factory, extra_panel
):
    url = reverse("dashboard", args=["asha"])
    # A figure no other part of the page (times, tokens, ids) can show by chance.
    figure = ">987654321<"
    assert figure in client_for(owner).get(url).content.decode()
    front_desk = member_factory(clinic, Role.FRONT_DESK)
    assert figure not in client_for(front_desk).get(url).content.decode()
    assert extra_panel == [Role.OWNER]  # nothing is loaded for a member who may not see it
