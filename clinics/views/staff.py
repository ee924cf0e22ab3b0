"""Staff and roles (invitations, role changes, deactivation, doctor details) and accepting an
invitation."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from clinics import selectors, services
from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.forms import (
    DoctorProfileForm,
    InvitationAcceptForm,
    InviteForm,
    RoleForm,
)
from clinics.models import Invitation, Membership
from clinics.roles import Perm, Role
from clinics.web import Confirmation, add_domain_error, confirmation_page

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


# ---------------------------------------------------------------------------------------------
# Staff and roles


def _staff_page(request, *, invite_form: InviteForm | None = None, status: int = 200):
    can_manage = request.membership.has_perm(Perm.STAFF_MANAGE)
    context = {
        "staff": selectors.staff_list(),
        "can_manage": can_manage,
        "invitations": selectors.open_invitations() if can_manage else [],
        "invite_form": invite_form or InviteForm(),
        "role_choices": Role.choices,
    }
    return render(request, "clinics/staff_list.html", context, status=status)


@require_perm(Perm.STAFF_VIEW)
def staff(request) -> HttpResponse:
    return _staff_page(request)


@require_perm(Perm.STAFF_MANAGE)
@require_POST
def staff_invite(request) -> HttpResponse:
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.invitation_create(
                clinic=request.clinic, actor=request.user, **form.cleaned_data
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                f"Invitation sent to {invitation.email} as {invitation.get_role_display()}. "
                f"The link works for {settings.INVITATION_VALID_DAYS} days.",
            )
            return redirect("staff-list", clinic_slug=request.clinic.slug)
    return _staff_page(request, invite_form=form, status=400)


@require_perm(Perm.STAFF_MANAGE)
@require_POST
def invitation_revoke(request, invitation_id: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=invitation_id)
    try:
        services.invitation_revoke(invitation=invitation, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The invitation for {invitation.email} was withdrawn.")
    return redirect("staff-list", clinic_slug=request.clinic.slug)


def _after_membership_change(request, membership: Membership) -> HttpResponse:
    # Someone who has just removed their own access cannot see the staff page any more.
    if membership.pk == request.membership.pk and not membership.is_active:
        return redirect("clinic-switch")
    return redirect("staff-list", clinic_slug=request.clinic.slug)


@require_perm(Perm.STAFF_MANAGE)
@require_POST
def membership_role(request, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(selectors.staff_list(), pk=membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed roles.")
        return redirect("staff-list", clinic_slug=request.clinic.slug)
    try:
        membership = services.membership_change_role(
            membership=membership, actor=request.user, role=form.cleaned_data["role"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"{membership.user.full_name} is now {membership.get_role_display()}."
        )
    return _after_membership_change(request, membership)


@require_perm(Perm.STAFF_MANAGE)
def membership_deactivate_confirm(request, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(selectors.staff_list(), pk=membership_id, is_active=True)
    name = membership.user.full_name
    yourself = membership.pk == request.membership.pk
    return confirmation_page(
        request,
        Confirmation(
            title="Deactivate your own access?" if yourself else f"Deactivate {name}?",
            consequences=[
                "You will be signed out of this clinic and cannot open it again unless another "
                "owner reactivates you."
                if yourself
                else f"{name} can no longer sign in to this clinic. Their records, notes and "
                "signatures stay, and an owner can reactivate them later.",
            ],
            button="Deactivate",
            action=reverse("membership-deactivate", args=[request.clinic.slug, membership.pk]),
            cancel_url=reverse("staff-list", args=[request.clinic.slug]),
        ),
    )


@require_perm(Perm.STAFF_MANAGE)
@require_POST
def membership_deactivate(request, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(selectors.staff_list(), pk=membership_id)
    try:
        membership = services.membership_deactivate(membership=membership, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"{membership.user.full_name} can no longer use this clinic. Their records stay.",
        )
    return _after_membership_change(request, membership)


@require_perm(Perm.STAFF_MANAGE)
@require_POST
def membership_reactivate(request, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(selectors.staff_list(), pk=membership_id)
    try:
        membership = services.membership_reactivate(membership=membership, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{membership.user.full_name} can use this clinic again.")
    return _after_membership_change(request, membership)


@require_perm(Perm.STAFF_MANAGE, or_own="membership_id")
@require_http_methods(["GET", "POST"])
def doctor_profile(request, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(selectors.staff_list(), pk=membership_id)
    is_self = membership.pk == request.membership.pk
    profile = getattr(membership, "doctor_profile", None)
    if request.method == "POST":
        form = DoctorProfileForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.doctor_profile_update(
                    membership=membership, actor=request.user, **form.cleaned_data
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, f"Saved the doctor details of {membership.user}.")
                return redirect("staff-list", clinic_slug=request.clinic.slug)
    else:
        initial = {}
        if profile is not None:
            initial = {
                f: getattr(profile, f)
                for f in ("qualifications", "medical_council", "registration_number")
            } | {"specialisation": profile.specialisation}
        form = DoctorProfileForm(initial=initial)
    return render(
        request,
        "clinics/doctor_profile.html",
        {"form": form, "member": membership, "profile": profile, "is_self": is_self},
        status=400 if form.errors else 200,
    )


# ---------------------------------------------------------------------------------------------
# Invitations (outside any clinic: the invitee is not a member yet)


@never_cache
@sensitive_post_parameters("password", "password_confirm")
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token: str) -> HttpResponse:
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return render(request, "clinics/invitation_invalid.html", status=410)
    signed_in = request.user.is_authenticated
    form = None if signed_in else InvitationAcceptForm(request.POST or None)
    if request.method == "POST":
        try:
            if signed_in:
                membership = services.invitation_accept(token=token, user=request.user)
            elif form.is_valid():
                membership = services.invitation_accept(
                    token=token,
                    full_name=form.cleaned_data["full_name"],
                    password=form.cleaned_data["password"],
                )
                auth_login(request, membership.user, backend=MODEL_BACKEND)
            else:
                membership = None
        except DomainError as exc:
            if form is not None:
                add_domain_error(form, exc)
            else:
                messages.error(request, exc.message)
        else:
            if membership is not None:
                messages.success(
                    request,
                    f"Welcome to {invitation.clinic.name}. You joined as "
                    f"{membership.get_role_display()}.",
                )
                return redirect("dashboard", clinic_slug=invitation.clinic.slug)
    context = {
        "invitation": invitation,
        "form": form,
        "email_matches": signed_in and request.user.email.lower() == invitation.email,
    }
    return render(request, "clinics/invitation_accept.html", context)
