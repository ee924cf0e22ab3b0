"""Staff: memberships and their roles, doctors' registration details, invitations."""

from __future__ import annotations

from django.contrib import admin

from clinics.admin.base import ReadOnlyAdmin
from clinics.models import DoctorProfile, Invitation, Membership
from clinics.services import invitation_revoke, membership_deactivate, membership_reactivate


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    readonly_what = "staff and their roles"
    list_display = ("user", "user_email", "clinic", "role", "is_active", "created_at")
    list_filter = ("role", "is_active")
    list_select_related = ("user", "clinic")
    search_fields = ("user__email", "user__full_name", "=clinic__slug", "clinic__name")
    raw_id_fields = ("user", "clinic")
    fields = ("clinic", "user", "role", "is_active", "created_at", "deactivated_at")
    actions = ("deactivate", "reactivate")

    @admin.display(description="email", ordering="user__email")
    def user_email(self, obj: Membership) -> str:
        return obj.user.email

    @admin.action(description="Remove access (deactivate) for the selected staff")
    def deactivate(self, request, queryset):
        self.run_service(
            request,
            queryset.select_related("user", "clinic"),
            lambda m: membership_deactivate(membership=m, actor=request.user),
            "Deactivated",
        )

    @admin.action(description="Give access back (reactivate) to the selected staff")
    def reactivate(self, request, queryset):
        self.run_service(
            request,
            queryset.select_related("user", "clinic"),
            lambda m: membership_reactivate(membership=m, actor=request.user),
            "Reactivated",
        )


@admin.register(DoctorProfile)
class DoctorProfileAdmin(ReadOnlyAdmin):
    readonly_what = "doctors' registration details"
    list_display = (
        "doctor",
        "clinic",
        "registration_number",
        "medical_council",
        "qualifications",
    )
    list_select_related = ("membership__user", "clinic")
    search_fields = (
        "registration_number",
        "membership__user__full_name",
        "membership__user__email",
        "=clinic__slug",
    )
    raw_id_fields = ("membership", "clinic")
    fields = (
        "clinic",
        "membership",
        "qualifications",
        "medical_council",
        "registration_number",
        "specialisation",
        "signature",
    )

    @admin.display(description="doctor", ordering="membership__user__full_name")
    def doctor(self, obj: DoctorProfile) -> str:
        return obj.membership.user.full_name


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    readonly_what = "invitations"
    list_display = ("email", "clinic", "role", "state", "created_at", "expires_at")
    list_filter = ("role",)
    list_select_related = ("clinic",)
    search_fields = ("email", "=clinic__slug")
    raw_id_fields = ("clinic", "invited_by", "accepted_by")
    # The link's token digest is never shown.
    fields = (
        "clinic",
        "email",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    )
    actions = ("revoke",)

    @admin.display(description="state")
    def state(self, obj: Invitation) -> str:
        if obj.accepted_at:
            return "accepted"
        if obj.revoked_at:
            return "revoked"
        return "open" if obj.is_open else "expired"

    @admin.action(description="Revoke the selected invitations")
    def revoke(self, request, queryset):
        self.run_service(
            request,
            queryset.select_related("clinic"),
            lambda i: invitation_revoke(invitation=i, actor=request.user),
            "Revoked",
        )
