"""Django admin for the people who run a Vaidya installation: superusers only.

Clinic staff never use the admin; they work in the clinic's pages. Three rules hold here:

- Only active superusers get in. `is_staff` alone opens nothing: the site and every model admin
  check `is_superuser`.
- The admin sees every clinic: each view runs under `scopes_disabled()` and renders its page
  before leaving it (a template response renders lazily, after the view has returned).
- The admin never bypasses the audit trail. Changes that have a service go through it (and so
  write their audit event); records whose changes must be audited and have no service here
  are read-only, with the clinic's pages as the place to change them. The audit trail itself
  cannot be changed or deleted.

One module per area: `base` (the rules above), `users`, `clinic`, `staff`, `api_access` and
`audit`. Importing this package registers them all, as Django's admin autodiscovery expects.
"""

from clinics.admin import api_access, audit, clinic, staff, users
from clinics.admin.base import READ_ONLY_NOTE, ReadOnlyAdmin, VaidyaModelAdmin, superusers_only

__all__ = [
    "READ_ONLY_NOTE",
    "ReadOnlyAdmin",
    "VaidyaModelAdmin",
    "api_access",
    "audit",
    "clinic",
    "staff",
    "superusers_only",
    "users",
]
