"""Registry entries for the models of `clinics`, `patients` and `compliance`.

Those apps sit at or below `compliance` and may not import its registry, so `compliance`
registers their entries from its `ready()`; apps above (`messaging`, `billing`) register their
own from theirs.
"""

from __future__ import annotations

from compliance.personal_data import personal_data


def register_all() -> None:
    # Imported here: the entries' callables use the models.
    from compliance.personal_data_entries import (  # noqa: PLC0415
        clinics,
        compliance,
        patients,
        requests,
        rights,
    )

    for module in (clinics, patients, compliance, requests, rights):
        for entry in module.ENTRIES:
            personal_data.register(entry)
