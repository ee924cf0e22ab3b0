"""URLs inside one clinic: /c/<clinic_slug>/..."""

from django.urls import path

from clinics.views import audit, clinic_settings, main, reports, staff

urlpatterns = [
    path("", main.dashboard, name="dashboard"),
    path("staff/", staff.staff, name="staff-list"),
    path("staff/invite/", staff.staff_invite, name="staff-invite"),
    path(
        "staff/invitations/<int:invitation_id>/revoke/",
        staff.invitation_revoke,
        name="invitation-revoke",
    ),
    path("staff/<int:membership_id>/role/", staff.membership_role, name="membership-role"),
    path(
        "staff/<int:membership_id>/deactivate/",
        staff.membership_deactivate,
        name="membership-deactivate",
    ),
    path(
        "staff/<int:membership_id>/deactivate/confirm/",
        staff.membership_deactivate_confirm,
        name="membership-deactivate-confirm",
    ),
    path(
        "staff/<int:membership_id>/reactivate/",
        staff.membership_reactivate,
        name="membership-reactivate",
    ),
    path(
        "staff/<int:membership_id>/doctor-profile/",
        staff.doctor_profile,
        name="doctor-profile",
    ),
    path("settings/", clinic_settings.clinic_settings, name="clinic-settings"),
    path("settings/api-keys/", clinic_settings.api_key_list, name="api-key-list"),
    path("settings/api-keys/new/", clinic_settings.api_key_create, name="api-key-create"),
    path(
        "settings/api-keys/<int:api_key_id>/revoke/",
        clinic_settings.api_key_revoke,
        name="api-key-revoke",
    ),
    path(
        "settings/api-keys/<int:api_key_id>/revoke/confirm/",
        clinic_settings.api_key_revoke_confirm,
        name="api-key-revoke-confirm",
    ),
    path("audit/", audit.audit_list, name="audit-list"),
    path("reports/", reports.reports, name="reports"),
    path("reports/download/", reports.report_csv, name="report-csv"),
]
