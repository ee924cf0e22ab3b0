"""WhatsApp settings: connecting the clinic's number, its templates, reminder choices.

Owners only (settings.edit). Secrets are write-only: the forms never render them back and the
page only says whether each one is on file.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from clinics.decorators import require_perm
from clinics.errors import DomainError, ValidationFailed
from clinics.roles import Perm
from clinics.web import add_domain_error
from messaging.forms import AccountForm, MessagingSettingsForm, TemplateLanguageForm
from messaging.models import AccountStatus, MessageTemplate, WhatsAppAccount
from messaging.services.accounts import (
    account_connect,
    account_disconnect,
    account_for_clinic,
    account_test_connection,
    account_update,
    messaging_settings_for,
    messaging_settings_update,
)
from messaging.services.template_languages import templates_language_add
from messaging.services.templates import templates_submit_defaults, templates_sync

TEST_RESULT_PARTIAL = "messaging/settings_test_result.html"


def _webhook_url(request: HttpRequest, account: WhatsAppAccount) -> str:
    try:
        path = reverse("whatsapp-webhook", kwargs={"webhook_key": account.webhook_key})
    except NoReverseMatch:
        path = f"/webhooks/whatsapp/{account.webhook_key}/"
    return request.build_absolute_uri(path)


def _connected(account: WhatsAppAccount | None) -> WhatsAppAccount | None:
    return account if account is not None and account.status != AccountStatus.DISCONNECTED else None


def _page(
    request: HttpRequest,
    *,
    account_form: AccountForm | None = None,
    settings_form: MessagingSettingsForm | None = None,
    language_form: TemplateLanguageForm | None = None,
    status: int = 200,
) -> HttpResponse:
    clinic = request.clinic
    account = _connected(account_for_clinic(clinic.pk))
    if account_form is None:
        account_form = AccountForm(account=account)
    if settings_form is None:
        settings_form = MessagingSettingsForm(
            initial=MessagingSettingsForm.initial_for(messaging_settings_for(clinic.pk))
        )
    context = {
        "account": account,
        "account_form": account_form,
        "settings_form": settings_form,
        "language_form": language_form or TemplateLanguageForm(),
        "webhook_url": _webhook_url(request, account) if account else "",
        "secrets_set": {
            "access_token": bool(account and account.access_token),
            "app_secret": bool(account and account.app_secret),
            "verify_token": bool(account and account.verify_token),
        },
        "templates": list(
            MessageTemplate.objects.filter(clinic=clinic).order_by("name", "language")
        ),
    }
    response = render(request, "messaging/settings.html", context, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


def _back(request: HttpRequest, anchor: str = "") -> HttpResponse:
    response = redirect("messaging-settings", clinic_slug=request.clinic.slug)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


@never_cache
@require_perm(Perm.SETTINGS_EDIT)
@require_GET
def messaging_settings(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_perm(Perm.SETTINGS_EDIT)
@require_POST
def account_save(request: HttpRequest) -> HttpResponse:
    """Connect the number, or save changes to the connected one."""
    account = _connected(account_for_clinic(request.clinic.pk))
    form = AccountForm(request.POST, account=account)
    if form.is_valid():
        try:
            if account is None:
                account_connect(clinic=request.clinic, actor=request.user, **form.service_fields())
                messages.success(
                    request,
                    "WhatsApp number connected. Paste the webhook address below into Meta, then "
                    "test the connection.",
                )
            else:
                token_changed = bool(form.cleaned_data.get("access_token"))
                account = account_update(
                    account=account, actor=request.user, **form.service_fields()
                )
                messages.success(request, "WhatsApp settings saved.")
                if token_changed:
                    # A new token is the usual fix for a rejected one: check it at once.
                    result = account_test_connection(account=account, actor=request.user)
                    (messages.success if result.ok else messages.error)(request, result.message)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return _back(request, "whatsapp")
    return _page(request, account_form=form, status=400)


@require_perm(Perm.SETTINGS_EDIT)
@require_POST
def account_disconnect_view(request: HttpRequest) -> HttpResponse:
    account = _connected(account_for_clinic(request.clinic.pk))
    if account is not None:
        account_disconnect(account=account, actor=request.user)
        messages.success(
            request,
            "WhatsApp disconnected: nothing more is sent and its secrets were erased. Messages "
            "already queued wait until a number is connected again.",
        )
    return _back(request, "whatsapp")


@never_cache
@require_perm(Perm.SETTINGS_EDIT)
@require_POST
def account_test_view(request: HttpRequest) -> HttpResponse:
    """Test the connection; htmx gets the result in place, a plain form a message."""
    account = _connected(account_for_clinic(request.clinic.pk))
    try:
        if account is None:
            raise DomainError("Connect the clinic's WhatsApp number first.")
        result = account_test_connection(account=account, actor=request.user)
        ok, text = result.ok, result.message
    except DomainError as exc:
        ok, text = False, exc.message
    if getattr(request, "htmx", False):
        return render(request, TEST_RESULT_PARTIAL, {"ok": ok, "text": text})
    (messages.success if ok else messages.error)(request, text)
    return _back(request, "whatsapp")


@require_perm(Perm.SETTINGS_EDIT)
@require_POST
def templates_submit_view(request: HttpRequest) -> HttpResponse:
    try:
        report = templates_submit_defaults(clinic=request.clinic, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        (messages.success if report.ok else messages.warning)(request, report.summary())
    return _back(request, "templates")


@require_perm(Perm.SETTINGS_EDIT)
@require_POST
def templates_sync_view(request: HttpRequest) -> HttpResponse:
    try:
        report = templates_sync(clinic=request.clinic, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, report.summary())
    return _back(request, "templates")


@require_perm(Perm.SETTINGS_EDIT)
@require_POST
def preferences_save(request: HttpRequest) -> HttpResponse:
    """The clinic's reminder, quiet-hours and escalation choices."""
    form = MessagingSettingsForm(request.POST)
    if form.is_valid():
        try:
            messaging_settings_update(
                clinic=request.clinic, actor=request.user, **form.cleaned_data
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "Messaging settings saved.")
            return _back(request, "preferences")
    return _page(request, settings_form=form, status=400)


@require_perm(Perm.SETTINGS_EDIT)
@require_POST
def template_language_add_view(request: HttpRequest) -> HttpResponse:
    """Vaidya's templates in another language, written by the clinic and sent to Meta."""
    form = TemplateLanguageForm(request.POST)
    if form.is_valid():
        try:
            templates_language_add(
                clinic=request.clinic,
                actor=request.user,
                language=form.cleaned_data["language"],
                texts=form.texts(),
            )
        except ValidationFailed as exc:
            form.add_errors(exc.errors)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            try:
                report = templates_submit_defaults(clinic=request.clinic, actor=request.user)
            except DomainError as exc:
                messages.warning(request, f"The templates were saved as drafts. {exc.message}")
            else:
                (messages.success if report.ok else messages.warning)(request, report.summary())
            return _back(request, "templates")
    return _page(request, language_form=form, status=400)
