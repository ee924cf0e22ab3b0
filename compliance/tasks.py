"""Background tasks of the compliance app (run by django-q2 workers)."""

from __future__ import annotations

from clinics.tenancy import for_each_clinic


def exports_expire_all() -> int:
    """Remove export ZIPs older than 7 days at every clinic (the daily schedule)."""
    from compliance.exports.services import exports_expire  # noqa: PLC0415

    return sum(for_each_clinic(exports_expire, name="Removing old exports").values())


def staff_data_erase_all() -> int:
    """Erase departed staff members' personal data 30 days after their account closed, at
    every clinic (the daily schedule)."""
    from compliance.erasure.services import staff_data_erase_departed  # noqa: PLC0415

    return sum(
        for_each_clinic(staff_data_erase_departed, name="Erasing departed staff data").values()
    )
