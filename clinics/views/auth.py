"""Signing in (password, then a two-factor code when the user has an app), signing out,
password reset, and sign-in security (setting up and turning off two-factor sign-in)."""

from __future__ import annotations

from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login

from clinics import selectors, services
from clinics.errors import DomainError
from clinics.forms import (
    OtpForm,
    SignInForm,
    TotpConfirmForm,
    VaidyaPasswordResetForm,
)
from clinics.tenancy import memberships_of
from clinics.two_factor import AuthenticatorApp, BackupCodes
from clinics.web import add_domain_error

# The half-signed-in state between the password and the two-factor code.
PENDING_SIGN_IN_KEY = "vaidya_pending_sign_in"
PENDING_SIGN_IN_SECONDS = 5 * 60
MAX_CODE_ATTEMPTS = 5
TOTP_DIGITS = 6
# The authenticator app being set up (an unconfirmed TOTP device's id).
TOTP_SETUP_KEY = "vaidya_totp_setup_device"


def _safe_next(request: HttpRequest) -> str:
    """The `next` address from the form or query string, if it stays on this site."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


# ---------------------------------------------------------------------------------------------
# Signing in and out


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request)
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # django-axes counts failures per email and address; when it locks the account out,
        # its middleware replaces this response with registration/locked_out.html.
        user = authenticate(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
        if user is None:
            form.add_error(
                None, "That email and password do not match our records. Please try again."
            )
        elif user_has_device(user):
            request.session[PENDING_SIGN_IN_KEY] = {
                "user_id": user.pk,
                "backend": user.backend,
                "started": timezone.now().timestamp(),
                "next": next_url,
                "attempts": 0,
            }
            return redirect("login-otp")
        else:
            auth_login(request, user)
            services.staff_signed_in(user=user, two_factor=False)
            return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    return render(request, "registration/login.html", {"form": form, "next": next_url})


def _verify_code(user, token: str):
    """The user's confirmed device that accepts `token`, or None.

    A 6-digit code is tried on the authenticator app only and anything else on the backup
    codes only, so a typo does not also count against (and throttle) the other device.
    """
    wanted = AuthenticatorApp if (token.isdigit() and len(token) == TOTP_DIGITS) else BackupCodes
    with transaction.atomic():
        for device in devices_for_user(user, for_verify=True):
            if isinstance(device, wanted) and device.verify_token(token):
                return device
    return None


def _pending_sign_in(request: HttpRequest):
    """(pending state, user) of a half-finished sign-in, or (None, None) when there is none or
    it is too old."""
    pending = request.session.get(PENDING_SIGN_IN_KEY)
    if not pending:
        return None, None
    if timezone.now().timestamp() - pending["started"] > PENDING_SIGN_IN_SECONDS:
        del request.session[PENDING_SIGN_IN_KEY]
        return None, None
    user = get_user_model().objects.filter(pk=pending["user_id"], is_active=True).first()
    return (pending, user) if user else (None, None)


@sensitive_post_parameters("token")
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_code(request: HttpRequest) -> HttpResponse:
    pending, user = _pending_sign_in(request)
    if user is None:
        messages.info(request, "Please sign in again.")
        return redirect("login")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = _verify_code(user, form.cleaned_data["token"])
        if device is not None:
            del request.session[PENDING_SIGN_IN_KEY]
            auth_login(request, user, backend=pending["backend"])
            otp_login(request, device)
            services.staff_signed_in(user=user, two_factor=True)
            return redirect(pending["next"] or settings.LOGIN_REDIRECT_URL)
        pending["attempts"] += 1
        if pending["attempts"] >= MAX_CODE_ATTEMPTS:
            del request.session[PENDING_SIGN_IN_KEY]
            messages.error(request, "Too many wrong codes. Please sign in again.")
            return redirect("login")
        request.session[PENDING_SIGN_IN_KEY] = pending
        form.add_error(
            "token",
            "That code is not right. Enter the code your app shows now, or an unused backup code.",
        )
    return render(request, "registration/login_otp.html", {"form": form})


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    messages.success(request, "You have signed out.")
    return redirect(settings.LOGOUT_REDIRECT_URL)


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        services.staff_password_reset(user=form.user)
        return response


password_reset = auth_views.PasswordResetView.as_view(
    form_class=VaidyaPasswordResetForm,
    subject_template_name="registration/password_reset_subject.html",
    email_template_name="registration/password_reset_email.html",
)
password_reset_done = auth_views.PasswordResetDoneView.as_view()
password_reset_confirm = PasswordResetConfirm.as_view()
password_reset_complete = auth_views.PasswordResetCompleteView.as_view()


# ---------------------------------------------------------------------------------------------
# Sign-in security (outside any clinic)


@login_required
def account_security(request) -> HttpResponse:
    context = {
        "status": selectors.two_factor_status(request.user),
        "verified": request.user.is_verified(),
        # Where they can download their own data: one page per clinic they work at.
        "memberships": memberships_of(request.user),
    }
    return render(request, "account/security.html", context)


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    return image.to_string(encoding="unicode")


def _setup_device(request) -> AuthenticatorApp | None:
    device_id = request.session.get(TOTP_SETUP_KEY)
    if not device_id:
        return None
    return AuthenticatorApp.objects.filter(pk=device_id, user=request.user, confirmed=False).first()


def _setup_url(next_url: str) -> str:
    url = reverse("two-factor-setup")
    if next_url:
        url += "?" + urlencode({"next": next_url})
    return url


@login_required
@never_cache
@sensitive_post_parameters("token")
@require_http_methods(["GET", "POST"])
def two_factor_setup(request) -> HttpResponse:
    """Set up an authenticator app: start, scan, confirm with a code, see the backup codes.

    Someone who already has an app but whose session is not verified (a clinic that requires
    two-factor sent them here) is asked for a code instead.
    """
    user = request.user
    next_url = _safe_next(request)
    action = request.POST.get("action", "")
    needs_code = user_has_device(user) and not user.is_verified()
    form = None

    if needs_code:
        form = OtpForm(request.POST if action == "verify" else None)
        if action == "verify" and form.is_valid():
            device = _verify_code(user, form.cleaned_data["token"])
            if device is not None:
                otp_login(request, device)
                messages.success(request, "Thank you. Your sign-in is verified.")
                return redirect(next_url or "account-security")
            form.add_error("token", "That code is not right. Enter the code your app shows now.")
        return render(request, "account/two_factor_verify.html", {"form": form, "next": next_url})

    if action == "start":
        device = services.totp_device_start(user=user)
        request.session[TOTP_SETUP_KEY] = device.pk
        return redirect(_setup_url(next_url))

    device = _setup_device(request)
    if action == "confirm":
        if device is None:
            messages.error(request, "The set-up expired. Please start again.")
            return redirect(_setup_url(next_url))
        form = TotpConfirmForm(request.POST)
        if form.is_valid():
            try:
                codes = services.totp_device_confirm(
                    user=user, device=device, token=form.cleaned_data["token"]
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                del request.session[TOTP_SETUP_KEY]
                otp_login(request, device)
                context = {"codes": codes, "next": next_url or resolve_url("account-security")}
                return render(request, "account/two_factor_codes.html", context)

    context = {"device": device, "next": next_url, "form": form or TotpConfirmForm()}
    if device is not None:
        context["qr_svg"] = mark_safe(_qr_svg(device.config_url))  # noqa: S308 (our own SVG)
        secret = b32encode(device.bin_key).decode()
        context["secret"] = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    status = 400 if form is not None and form.errors else 200
    return render(request, "account/two_factor_setup.html", context, status=status)


@login_required
@require_POST
def two_factor_disable(request) -> HttpResponse:
    try:
        services.two_factor_disable(user=request.user)
    except DomainError as exc:
        messages.error(request, f"Two-factor sign-in stays on: {exc.message}")
    else:
        messages.success(request, "Two-factor sign-in is off. You sign in with your password.")
    return redirect("account-security")
