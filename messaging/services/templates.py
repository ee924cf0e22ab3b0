"""The clinic's template registry: Vaidya's defaults, submitting them to Meta, syncing back.

Meta reviews every template before it can be sent; reminders use only approved ones
(`sending.template_for`). Calls to Meta happen outside database transactions, one template at a
time, so one refused template does not stop the others and no lock waits on the network.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinics.audit import Actions, audit_record
from clinics.errors import DomainError
from clinics.models import Clinic, User
from messaging.defaults import (
    CODE_EXPIRY_MINUTES,
    DEFAULTS,
    DefaultTemplate,
    default_for,
    purpose_for_name,
)
from messaging.models import (
    AccountStatus,
    MessageTemplate,
    TemplateCategory,
    TemplateStatus,
    WhatsAppAccount,
)
from messaging.services.account_state import account_client, account_mark_refused, require_account
from messaging.services.template_text import PLACEHOLDER
from messaging.whatsapp import InvalidToken, TransientError, WhatsAppError

logger = logging.getLogger(__name__)

# Meta accepts at most 100 new templates per business account per hour.
CREATIONS_PER_HOUR = 100
_ALREADY_EXISTS_SUBCODE = 2388024
# Graph statuses Vaidya has no name for, mapped to the nearest one it has.
_STATUS_ALIASES = {
    "IN_APPEAL": TemplateStatus.PENDING,
    "PENDING_DELETION": TemplateStatus.DISABLED,
    "DELETED": TemplateStatus.DISABLED,
    "LIMIT_EXCEEDED": TemplateStatus.DISABLED,
    "ARCHIVED": TemplateStatus.DISABLED,
}


def _placeholders(body: str) -> int:
    return len(set(PLACEHOLDER.findall(body or "")))


def _row_from_default(clinic: Clinic, default: DefaultTemplate) -> MessageTemplate:
    return MessageTemplate(
        footer_text=default.footer,
        clinic=clinic,
        name=default.name,
        language=default.language,
        category=default.category,
        purpose=default.purpose,
        body=default.body,
        buttons=default.buttons,
        parameter_count=_placeholders(default.body),
        examples=list(default.examples),
        status=TemplateStatus.DRAFT,
    )


@transaction.atomic
def templates_ensure_defaults(*, clinic: Clinic) -> list[MessageTemplate]:
    """Add Vaidya's default templates the clinic does not have yet, as drafts (not sent to Meta).

    Returns the rows created; existing rows (whatever their status) are left as they are.
    """
    existing = set(MessageTemplate.objects.filter(clinic=clinic).values_list("name", "language"))
    created = []
    for default in DEFAULTS:
        if (default.name, default.language) in existing:
            continue
        row = _row_from_default(clinic, default)
        row.save()
        created.append(row)
    return created


def template_components(template: MessageTemplate) -> list[dict[str, Any]]:
    """The template as Meta's create call wants it: header, body with examples, buttons."""
    if template.category == TemplateCategory.AUTHENTICATION:
        return authentication_components(template)
    components: list[dict[str, Any]] = []
    if template.header_text:
        components.append({"type": "HEADER", "format": "TEXT", "text": template.header_text})
    body: dict[str, Any] = {"type": "BODY", "text": template.body}
    if template.parameter_count:
        examples = [str(e) for e in template.examples][: template.parameter_count]
        examples += [f"example {i}" for i in range(len(examples) + 1, template.parameter_count + 1)]
        body["example"] = {"body_text": [examples]}
    components.append(body)
    if template.footer_text:
        components.append({"type": "FOOTER", "text": template.footer_text})
    if template.buttons:
        components.append(
            {
                "type": "BUTTONS",
                "buttons": [{"type": "QUICK_REPLY", "text": b["text"]} for b in template.buttons],
            }
        )
    return components


def authentication_components(template: MessageTemplate) -> list[dict[str, Any]]:
    """Meta's authentication format: Meta writes the body (the code and the security line) and
    the expiry footer; the one button copies the code. No other values, no links."""
    button = (template.buttons or [{}])[0].get("text") or "Copy code"
    return [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "FOOTER", "code_expiration_minutes": CODE_EXPIRY_MINUTES},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": button}]},
    ]


@dataclass
class SubmitReport:
    """What happened to each of Vaidya's templates when they were sent for review."""

    submitted: list[str] = field(default_factory=list)
    already_on_whatsapp: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (name/language, problem)
    stopped: str = ""  # why the run stopped early, if it did
    left: int = 0  # templates not tried because the run stopped

    @property
    def ok(self) -> bool:
        return not self.failed and not self.stopped

    def summary(self) -> str:
        parts = [f"{len(self.submitted)} template(s) sent to WhatsApp for review."]
        if self.already_on_whatsapp:
            parts.append(
                f"{len(self.already_on_whatsapp)} were already on WhatsApp (their status was "
                "synced)."
            )
        if self.failed:
            parts.append(
                f"{len(self.failed)} refused: "
                + "; ".join(f"{name}: {problem}" for name, problem in self.failed)
            )
        if self.stopped:
            parts.append(self.stopped)
        return " ".join(parts)


def _connected(clinic: Clinic) -> WhatsAppAccount:
    account = require_account(clinic.pk)
    if account.status == AccountStatus.DISCONNECTED:
        raise DomainError(
            "Connect the clinic's WhatsApp number in Settings first.",
            code="whatsapp_not_connected",
        )
    if account.status == AccountStatus.TOKEN_INVALID:
        raise DomainError(
            "WhatsApp refused the clinic's access token. Reconnect it in Settings first.",
            code="whatsapp_token_invalid",
        )
    return account


def _label(template: MessageTemplate) -> str:
    return f"{template.name} ({template.language})"


def templates_submit_defaults(*, clinic: Clinic, actor: User | None) -> SubmitReport:
    """Send Vaidya's draft templates to Meta for review (they become PENDING, or APPROVED).

    Each template is sent on its own: one refused does not stop the rest. The run stops when
    Meta's limit of 100 new templates an hour is reached, when Meta is unreachable, or when the
    token is refused; what is left stays a draft for the next run.
    """
    account = _connected(clinic)
    templates_ensure_defaults(clinic=clinic)
    drafts = list(
        MessageTemplate.objects.filter(clinic=clinic, status=TemplateStatus.DRAFT)
        .exclude(purpose="")
        .order_by("name", "language")
    )
    report = SubmitReport()
    hour_ago = timezone.now() - timedelta(hours=1)
    budget = (
        CREATIONS_PER_HOUR
        - MessageTemplate.objects.filter(clinic=clinic, submitted_at__gte=hour_ago).count()
    )
    client = account_client(account)
    for index, template in enumerate(drafts):
        if budget <= 0:
            report.stopped = (
                "WhatsApp accepts at most 100 new templates an hour; submit the rest later."
            )
            report.left = len(drafts) - index
            break
        try:
            answer = client.create_template(
                account.business_account_id,
                template.name,
                template.language,
                template.category,
                template_components(template),
            )
        except InvalidToken:
            problem = "WhatsApp refused the access token. Reconnect WhatsApp in Settings."
            account_mark_refused(account_id=account.pk, problem=problem)
            report.stopped, report.left = problem, len(drafts) - index
            break
        except TransientError as exc:
            report.stopped = (
                "WhatsApp is not taking more templates just now (its limit is 100 new templates "
                f"an hour, or it could not be reached: {exc}). Submit the rest later."
            )
            report.left = len(drafts) - index
            break
        except WhatsAppError as exc:
            if exc.subcode == _ALREADY_EXISTS_SUBCODE:
                report.already_on_whatsapp.append(_label(template))
                continue
            problem = str(exc)[:300]
            MessageTemplate.objects.filter(pk=template.pk).update(rejected_reason=problem)
            report.failed.append((_label(template), problem))
            continue
        budget -= 1
        status = str(answer.get("status") or "PENDING").upper()
        template.status = status if status in TemplateStatus.values else TemplateStatus.PENDING
        template.meta_template_id = str(answer.get("id") or "")[:40]
        template.rejected_reason = ""
        template.submitted_at = timezone.now()
        template.save(
            update_fields=["status", "meta_template_id", "rejected_reason", "submitted_at"]
        )
        report.submitted.append(_label(template))
    with transaction.atomic():
        audit_record(
            clinic=clinic,
            actor=actor,
            action=Actions.TEMPLATES_SUBMITTED,
            data={
                "submitted": len(report.submitted),
                "already_on_whatsapp": len(report.already_on_whatsapp),
                "failed": len(report.failed),
                "left": report.left,
            },
        )
    if report.already_on_whatsapp:
        try:
            templates_sync(clinic=clinic, actor=actor)
        except DomainError:
            logger.warning("template sync after submission failed for clinic %s", clinic.pk)
    return report


@dataclass
class SyncReport:
    updated: int = 0
    added: int = 0
    unchanged: int = 0
    # Known here, reviewed by Meta once, and no longer on the business account.
    gone: int = 0

    def summary(self) -> str:
        text = (
            f"Synced from WhatsApp: {self.updated} updated, {self.added} added, "
            f"{self.unchanged} unchanged."
        )
        if self.gone:
            text += (
                f" {self.gone} no longer on WhatsApp (deleted in WhatsApp Manager): disabled here."
            )
        return text


def _graph_fields(item: dict[str, Any]) -> dict[str, Any]:
    components = item.get("components") or []

    def component(kind: str) -> dict[str, Any]:
        return next(
            (c for c in components if isinstance(c, dict) and str(c.get("type")).upper() == kind),
            {},
        )

    header = component("HEADER")
    body = component("BODY")
    buttons = [
        str(b.get("text") or "")
        for b in component("BUTTONS").get("buttons") or []
        if isinstance(b, dict) and str(b.get("type")).upper() in ("QUICK_REPLY", "OTP")
    ]
    examples = ((body.get("example") or {}).get("body_text") or [[]])[0]
    header_is_text = str(header.get("format") or "TEXT").upper() == "TEXT"
    status = str(item.get("status") or "").upper()
    status = _STATUS_ALIASES.get(status, status)
    category = str(item.get("category") or "").upper()
    return {
        "status": status if status in TemplateStatus.values else TemplateStatus.PENDING,
        "category": category if category in TemplateCategory.values else TemplateCategory.UTILITY,
        "header_text": str(header.get("text") or "")[:60] if header_is_text else "",
        "body": str(body.get("text") or ""),
        "footer_text": str(component("FOOTER").get("text") or "")[:60],
        "button_texts": buttons,
        "examples": [str(e) for e in examples] if isinstance(examples, list) else [],
        "meta_template_id": str(item.get("id") or "")[:40],
        "rejected_reason": str(item.get("rejected_reason") or "")[:300]
        if status == TemplateStatus.REJECTED
        else "",
    }


def _buttons(texts: list[str], previous: list[dict[str, str]], purpose: str, language: str):
    """Quick-reply buttons with their payloads: kept from Vaidya's own template where known."""
    known = previous
    default = default_for(purpose, language) if purpose else None
    if default is not None and len(default.buttons) == len(texts):
        known = default.buttons
    if len(known) == len(texts):
        return [{**k, "text": t} for t, k in zip(texts, known, strict=True)]
    return [{"text": t, "payload": ""} for t in texts]


def templates_sync(*, clinic: Clinic, actor: User | None) -> SyncReport:
    """Read every template of the clinic's WhatsApp Business Account from Meta and update the
    registry: status, category, texts and Meta's id. Templates made outside Vaidya are added
    (with no purpose: staff can still pick them in the inbox)."""
    account = _connected(clinic)
    try:
        items = account_client(account).list_templates(account.business_account_id)
    except InvalidToken:
        problem = "WhatsApp refused the access token. Reconnect WhatsApp in Settings."
        account_mark_refused(account_id=account.pk, problem=problem)
        raise DomainError(problem, code="whatsapp_token_invalid") from None
    except WhatsAppError as exc:
        raise DomainError(
            f"Could not read the templates from WhatsApp: {exc}", code="whatsapp_error"
        ) from None
    return _apply_sync(clinic=clinic, actor=actor, items=items)


@transaction.atomic
def _apply_sync(*, clinic: Clinic, actor: User | None, items: list[dict[str, Any]]) -> SyncReport:
    report = SyncReport()
    rows = {
        (t.name, t.language): t
        for t in MessageTemplate.objects.select_for_update().filter(clinic=clinic)
    }
    now = timezone.now()
    seen: set[tuple[str, str]] = set()
    for item in items:
        if not isinstance(item, dict) or not item.get("name") or not item.get("language"):
            continue
        name, language = str(item["name"])[:512], str(item["language"])[:10]
        values = _graph_fields(item)
        if not values["body"]:
            continue
        rows[(name, language)] = _sync_row(
            rows.get((name, language)),
            clinic=clinic,
            name=name,
            language=language,
            values=values,
            now=now,
            report=report,
        )
        seen.add((name, language))
    _disable_gone(rows, seen=seen, now=now, report=report)
    audit_record(
        clinic=clinic,
        actor=actor,
        action=Actions.TEMPLATES_SYNCED,
        data={
            "updated": report.updated,
            "added": report.added,
            "unchanged": report.unchanged,
            "gone": report.gone,
        },
    )
    return report


def _sync_row(
    row: MessageTemplate | None,
    *,
    clinic: Clinic,
    name: str,
    language: str,
    values: dict[str, Any],
    now: datetime,
    report: SyncReport,
) -> MessageTemplate:
    """Add or update one template from WhatsApp's list, counting what happened."""
    changed = row is None
    if row is None:
        row = MessageTemplate(
            clinic=clinic, name=name, language=language, purpose=purpose_for_name(name)
        )
        report.added += 1
    button_texts = values.pop("button_texts")
    values["buttons"] = _buttons(button_texts, row.buttons or [], row.purpose, language)
    values["parameter_count"] = _placeholders(values["body"])
    if not values["examples"]:
        values.pop("examples")
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    row.synced_at = now
    if row.pk is None:
        row.save()
    elif changed:
        row.save()
        report.updated += 1
    else:
        MessageTemplate.objects.filter(pk=row.pk).update(synced_at=now)
        report.unchanged += 1
    return row


def _disable_gone(
    rows: dict[tuple[str, str], MessageTemplate],
    *,
    seen: set[tuple[str, str]],
    now: datetime,
    report: SyncReport,
) -> None:
    # A template deleted in WhatsApp Manager no longer comes back in the list. Sending it would
    # fail with a Graph error, and Meta keeps a deleted name for 30 days, so it cannot simply be
    # submitted again: disable it here, as a DELETED status would. Drafts were never on
    # WhatsApp and are left alone.
    for key, row in rows.items():
        if key in seen or row.status in (TemplateStatus.DRAFT, TemplateStatus.DISABLED):
            continue
        row.status = TemplateStatus.DISABLED
        row.meta_template_id = ""
        row.synced_at = now
        row.save(update_fields=["status", "meta_template_id", "synced_at"])
        report.gone += 1
