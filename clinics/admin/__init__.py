"""Django admin for the people who run a Vaidya installation: superusers only.

Clinic staff never use the admin; they work in the clinic's pages. Three rules hold here:

- Only active superusers get in. `is_staff` alone opens nothing: the site and every model admin
  check `is_superuser`.
- The admin sees every clinic: each view runs with the clinic scope off and renders its page
  before leaving it (a template response renders lazily, after the view has returned).
- The admin never bypasses the audit trail. Changes that have a service go through it (and so
  write their audit event); records whose changes must be audited and have no service here
  are read-only, with the clinic's pages as the place to change them. The audit trail itself
  cannot be changed or deleted.

One module per area: `base` (the rules above), `users`, `clinic`, `staff`, `api_access`,
`audit` and `two_factor`. Importing this package registers them all, as Django's admin
autodiscovery expects.
"""

from clinics.admin import api_access, audit, clinic, staff, two_factor, users
from clinics.admin.api_access import ApiKeyAdmin, IdempotencyRecordAdmin
from clinics.admin.audit import AuditChainHeadAdmin, AuditEventAdmin, SealedFilter
from clinics.admin.base import READ_ONLY_NOTE, ReadOnlyAdmin, VaidyaModelAdmin, superusers_only
from clinics.admin.clinic import ClinicAdmin, ClinicAdminForm, ClinicCounterAdmin
from clinics.admin.staff import DoctorProfileAdmin, InvitationAdmin, MembershipAdmin
from clinics.admin.two_factor import AuthenticatorAppAdmin, BackupCodesAdmin
from clinics.admin.users import UserAdmin, UserCreateForm, UserEditForm

__all__ = [
    "READ_ONLY_NOTE",
    "ApiKeyAdmin",
    "AuditChainHeadAdmin",
    "AuditEventAdmin",
    "AuthenticatorAppAdmin",
    "BackupCodesAdmin",
    "ClinicAdmin",
    "ClinicAdminForm",
    "ClinicCounterAdmin",
    "DoctorProfileAdmin",
    "IdempotencyRecordAdmin",
    "InvitationAdmin",
    "MembershipAdmin",
    "ReadOnlyAdmin",
    "SealedFilter",
    "UserAdmin",
    "UserCreateForm",
    "UserEditForm",
    "VaidyaModelAdmin",
    "api_access",
    "audit",
    "clinic",
    "staff",
    "superusers_only",
    "two_factor",
    "users",
]
