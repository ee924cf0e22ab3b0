"""The personal-data registry: what Vaidya holds about a person, and how it is exported, erased
and kept.

Every model that holds personal data about a patient or a staff member is registered here once,
by the app that owns it, from its `AppConfig.ready()` (apps above `compliance`, such as
`messaging` and `billing`, plug in the same way; `compliance` never imports them). A model that
looks personal but is not (a drug list, a clinic's own settings) is registered too, as being
about nobody, with the reason. The access summary, the portability export (JSON and FHIR), the
erasure and its dry run, and the retention purge all read this registry and nothing else, so a
kind of data added later is covered once it is registered, and a test that walks every installed
model fails until it is.

This module imports no models, so an `apps.py` may import it at its top.

Checklist for a new model that holds personal data:
1. `personal_data.register(PersonalData(...))` in the owning app's `AppConfig.ready()`, with the
   callables in a module that imports the models (imported inside `ready()`).
2. `fields`: every field with personal data in it (names, phones, emails, addresses, dates of
   birth, free text, file keys, JSON payloads). The registry check refuses a name that is not a
   field of the model.
3. `subject` and the path from the row to its person (`patient_path` / `staff_path`), or `rows`
   when a path cannot say it.
4. `retention`: one of `RETENTION_CLASSES`, and `age_field` (the datetime the period counts from)
   for every class except the clinical record, which counts from the patient's last visit.
5. `erasure`: DELETE (the row goes), ANONYMISE (the row stays without its personal values:
   give `anonymise`), or RETAIN (kept on an erasure request until its retention class lets it go).
6. `files` for rows that point at stored files, `processors` for where else it went, and `fhir`
   when the row has a FHIR R4 form the export should carry.
7. The scan test (tests/compliance/test_personal_data_registry.py) passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_noop

from clinics.registry import Registry

PATIENT = "patient"
STAFF = "staff"
NOBODY = "nobody"
SUBJECTS = (PATIENT, STAFF, NOBODY)

DELETE = "delete"
ANONYMISE = "anonymise"
RETAIN = "retain"
ERASURES = (DELETE, ANONYMISE, RETAIN)


@dataclass(frozen=True)
class RetentionClass:
    """A class of records with how long a clinic keeps them.

    `default_days` is what a new clinic's policy says; an owner may lengthen a period but never
    set it below `floor_days`. `counts_from` and `basis` are shown to people (the erasure dry run,
    the access summary, the retention settings page).
    """

    key: str
    label: str
    default_days: int
    floor_days: int
    counts_from: str
    basis: str

    def __post_init__(self) -> None:
        if self.floor_days < 0 or self.default_days < self.floor_days:
            raise ValueError(f"Retention class {self.key}: the default is below the floor.")


_YEAR = 365

CLINICAL = "clinical"
BILLING = "billing"
MESSAGE_BODY = "message_body"
WHATSAPP_MEDIA = "whatsapp_media"
WEBHOOK_PAYLOAD = "webhook_payload"
AUDIT_LOG = "audit_log"
ONE_TIME_CODE = "one_time_code"
EXPORT = "export"
CONSENT_RECORD = "consent_record"
RIGHTS_RECORD = "rights_record"
STAFF_ACCOUNT = "staff_account"
NOT_KEPT = "not_kept"

RETENTION_CLASSES: Mapping[str, RetentionClass] = {
    c.key: c
    for c in (
        RetentionClass(
            key=CLINICAL,
            label=gettext_noop("Clinical records"),
            default_days=10 * _YEAR,
            floor_days=3 * _YEAR,
            counts_from=gettext_noop(
                "the patient's last visit (for a minor, until age 21 if that is later)"
            ),
            basis=gettext_noop(
                "Indian Medical Council (Professional Conduct, Etiquette and Ethics) Regulations "
                "2002, reg. 1.3.1 (at least 3 years), and the Clinical Establishments Rules 2012, "
                "rule 9; the clinic keeps them 10 years after the last visit by default."
            ),
        ),
        RetentionClass(
            key=BILLING,
            label=gettext_noop("Bills, receipts and payments"),
            default_days=8 * _YEAR,
            floor_days=8 * _YEAR,
            counts_from=gettext_noop("the end of the financial year of the bill"),
            basis=gettext_noop(
                "Tax law: accounts and GST records are kept for 72 months from the due date of "
                "the annual return (CGST Act s.36) and for the income-tax assessment period; "
                "8 years covers both."
            ),
        ),
        RetentionClass(
            key=MESSAGE_BODY,
            label=gettext_noop("WhatsApp message texts"),
            default_days=90,
            floor_days=30,
            counts_from=gettext_noop("when the message was sent or received"),
            basis=gettext_noop(
                "Kept only as long as the conversation needs them (DPDP Act s.8(7)); the "
                "message's date, direction and status stay with the clinical record."
            ),
        ),
        RetentionClass(
            key=WHATSAPP_MEDIA,
            label=gettext_noop("Voice notes, photos and files received on WhatsApp"),
            default_days=30,
            floor_days=7,
            counts_from=gettext_noop("when the file was received"),
            basis=gettext_noop(
                "Kept only until staff have seen it and filed what matters (DPDP Act s.8(7))."
            ),
        ),
        RetentionClass(
            key=WEBHOOK_PAYLOAD,
            label=gettext_noop("Raw WhatsApp and payment deliveries"),
            default_days=30,
            floor_days=7,
            counts_from=gettext_noop("when the delivery arrived"),
            basis=gettext_noop("Kept for troubleshooting only (DPDP Act s.8(7))."),
        ),
        RetentionClass(
            key=AUDIT_LOG,
            label=gettext_noop("Audit and access logs"),
            default_days=3 * _YEAR,
            floor_days=_YEAR,
            counts_from=gettext_noop("when the action happened"),
            basis=gettext_noop(
                "DPDP Rules 2025, rule 8(3): logs of processing are kept at least one year."
            ),
        ),
        RetentionClass(
            key=ONE_TIME_CODE,
            label=gettext_noop("One-time codes"),
            default_days=1,
            floor_days=1,
            counts_from=gettext_noop("when the code was sent"),
            basis=gettext_noop("Needed only while the code can be used."),
        ),
        RetentionClass(
            key=EXPORT,
            label=gettext_noop("Exports handed to patients"),
            default_days=7,
            floor_days=1,
            counts_from=gettext_noop("when the export was prepared"),
            basis=gettext_noop("A copy for the patient to download; the records themselves stay."),
        ),
        RetentionClass(
            key=CONSENT_RECORD,
            label=gettext_noop("Consent and notices"),
            default_days=10 * _YEAR,
            floor_days=3 * _YEAR,
            counts_from=gettext_noop("the patient's last visit"),
            basis=gettext_noop(
                "The clinic must be able to show the notice and the consent it relied on "
                "(DPDP Act s.6(10)); kept as long as the clinical record."
            ),
        ),
        RetentionClass(
            key=RIGHTS_RECORD,
            label=gettext_noop("Data-rights requests and grievances"),
            default_days=3 * _YEAR,
            floor_days=_YEAR,
            counts_from=gettext_noop("when the request was closed"),
            basis=gettext_noop(
                "Evidence that the request was answered (DPDP Act ss.11-14, Rule 14)."
            ),
        ),
        RetentionClass(
            key=STAFF_ACCOUNT,
            label=gettext_noop("Staff accounts"),
            default_days=30,
            floor_days=0,
            counts_from=gettext_noop("when the account was closed"),
            basis=gettext_noop(
                "A departed staff member's personal data goes 30 days after the account closes; "
                "their name stays on the clinical records they wrote."
            ),
        ),
        RetentionClass(
            key=NOT_KEPT,
            label=gettext_noop("Not personal data"),
            default_days=0,
            floor_days=0,
            counts_from="-",
            basis=gettext_noop("Holds no personal data."),
        ),
    )
}


@dataclass(frozen=True)
class PersonalData:
    """One model's personal data: what it is, whose, how it is exported, erased and kept.

    Paths are Django lookups from the model to the person's id (`"patient"`,
    `"visit__patient"`, `"conversation__patient"`; `"user"` for staff). Callables run inside
    the clinic's scope. See the module's checklist.
    """

    name: str  # stable and unique: "patients.visit"; the key of this kind in exports
    order: int
    model: str  # "patients.Visit"
    subject: str  # PATIENT, STAFF or NOBODY
    description: str  # for people: "Visit notes: complaints, findings and advice"
    purpose: str = ""  # why the clinic holds it (the access summary)
    fields: tuple[str, ...] = ()
    retention: str = NOT_KEPT
    erasure: str = DELETE
    patient_path: str | None = None
    staff_path: str | None = None
    conversation_path: str | None = None  # for legal holds on a conversation
    age_field: str | None = None  # the datetime a retention period counts from (a lookup path)
    rows: Callable[[int], Any] | None = None  # person id -> queryset, when a path cannot say it
    export: Callable[[Any], dict[str, Any]] | None = None  # default: `fields` with id and dates
    anonymise: Callable[[Any], int] | None = None  # queryset -> rows changed (for ANONYMISE)
    # queryset -> rows deleted, when deleting is more than `rows.delete()` (rows that go only
    # together with others, models that refuse a plain delete); it may leave some rows.
    delete: Callable[[Any], int] | None = None
    files: Callable[[Any], Iterable[Any]] | None = None  # row -> its FieldFiles (.storage, .name)
    fhir: Callable[[Any], dict[str, Any] | None] | None = None  # row -> a FHIR R4 resource
    processors: tuple[str, ...] = ()  # who else received it: "Meta (WhatsApp Cloud API)"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if self.subject not in SUBJECTS:
            problems.append(f"subject {self.subject!r} is not one of {SUBJECTS}")
        if self.erasure not in ERASURES:
            problems.append(f"erasure {self.erasure!r} is not one of {ERASURES}")
        if self.retention not in RETENTION_CLASSES:
            problems.append(f"retention class {self.retention!r} is unknown")
        if self.erasure == ANONYMISE and self.anonymise is None:
            problems.append("ANONYMISE needs an `anonymise` callable")
        if self.subject == PATIENT and not (self.patient_path or self.rows):
            problems.append("a patient's data needs `patient_path` or `rows`")
        if self.subject == STAFF and not (self.staff_path or self.rows):
            problems.append("a staff member's data needs `staff_path` or `rows`")
        if self.subject != NOBODY and not self.fields:
            problems.append("personal data needs its `fields`")
        if problems:
            raise ValueError(f"Personal data {self.name}: " + "; ".join(problems) + ".")

    @property
    def retention_class(self) -> RetentionClass:
        return RETENTION_CLASSES[self.retention]


personal_data: Registry[PersonalData] = Registry("personal data")


def kinds_about(subject: str) -> list[PersonalData]:
    """The registered kinds about patients (or staff), in order."""
    return [k for k in personal_data.entries() if k.subject == subject]


def kind_for_model(label: str) -> list[PersonalData]:
    """Every kind registered for a model ("patients.Visit"); a model may hold several."""
    return [k for k in personal_data.entries() if k.model.lower() == label.lower()]


def registry_problems() -> list[str]:
    """What is wrong with the registered entries against the installed models (for the system
    check and the tests): unknown models, fields or paths."""
    from django.apps import apps  # noqa: PLC0415 (the registry module imports no models)
    from django.core.exceptions import FieldDoesNotExist  # noqa: PLC0415

    problems = []
    for kind in personal_data.entries():
        try:
            model = apps.get_model(kind.model)
        except (LookupError, ValueError):
            problems.append(f"{kind.name}: no model {kind.model!r}")
            continue
        if kind.age_field and not _path_resolves(model, kind.age_field):
            problems.append(f"{kind.name}: {kind.model} has no field {kind.age_field!r}")
        for name in kind.fields:
            try:
                model._meta.get_field(name)
            except FieldDoesNotExist:
                problems.append(f"{kind.name}: {kind.model} has no field {name!r}")
        for path in (kind.patient_path, kind.staff_path, kind.conversation_path):
            if path and not _path_resolves(model, path):
                problems.append(f"{kind.name}: the path {path!r} does not resolve on {kind.model}")
    return problems


def _path_resolves(model: Any, path: str) -> bool:
    from django.core.exceptions import FieldDoesNotExist  # noqa: PLC0415

    current = model
    for part in path.split("__"):
        try:
            f = current._meta.get_field(part)
        except FieldDoesNotExist:
            return False
        if f.is_relation and f.related_model is not None:
            current = f.related_model
    return True


# --- acting on a kind's rows (the erasure and the retention purge share these) -----------------
def kind_model(kind: PersonalData) -> Any:
    from django.apps import apps  # noqa: PLC0415

    return apps.get_model(kind.model)


def kind_rows(kind: PersonalData, person_id: int) -> Any:
    """The rows of this kind about one person (a patient's or a staff member's id), inside the
    current clinic's scope."""
    if kind.rows is not None:
        return kind.rows(person_id)
    path = kind.patient_path if kind.subject == PATIENT else kind.staff_path
    if not path:
        raise ValueError(f"Personal data {kind.name} is about nobody.")
    return kind_model(kind).objects.filter(**{path: person_id})


def erase_rows(kind: PersonalData, rows: Any) -> int:
    """Erase these rows of one kind: delete them, or anonymise them for an ANONYMISE kind, and
    delete the files they point at once the caller's transaction commits (a rolled-back erasure
    leaves the files). Returns how many rows went or changed. The caller decides which rows
    may go (retention, holds); this does what the registry says for them."""
    from django.db import transaction  # noqa: PLC0415

    names: dict[Any, list[tuple[Any, str]]] = {}
    if kind.files is not None:
        for row in rows.iterator():
            names[row.pk] = [(f.storage, f.name) for f in kind.files(row) if f and f.name]
    if kind.erasure == ANONYMISE:
        changed = kind.anonymise(rows)  # type: ignore[misc]
    elif kind.delete is not None:
        changed = kind.delete(rows)
        # The hook may have left rows (kept with others): their files stay too.
        left = set(kind_model(kind).objects.filter(pk__in=names).values_list("pk", flat=True))
        names = {pk: found for pk, found in names.items() if pk not in left}
    else:
        changed = rows.delete()[0]
    files = [name for found in names.values() for name in found]
    if files:
        transaction.on_commit(lambda: _delete_files(files))
    return changed


def _delete_files(names: list[tuple[Any, str]]) -> None:
    for storage, name in names:
        storage.delete(name)
