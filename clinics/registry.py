"""Registries: how the apps above `clinics` plug into it without `clinics` importing them.

Dependencies point one way (`clinics` <- `patients` <- `compliance` <- `messaging`, `billing`;
`devtools` above them all). When `clinics` needs something only a higher app knows, it defines a
registry here and the higher app adds its entries from its `AppConfig.ready()`, the way Django's
admin site and system checks work. `clinics` reads the entries in order and never names the app
that added them.

    dashboard_panels   DashboardPanel    a box on the clinic's dashboard
    patient_directory  PatientDirectory  patient numbers on the audit trail
    demo_steps         DemoStep          a step of `manage.py seed_demo`
    local_services     LocalService      a process `manage.py run_local` starts beside the app
    waiting_work       WaitingWork       rows waiting on a task, enqueued again when it was lost
    report_sources     ReportSource      sections of the reports page (and their CSV files)
    clinic_guards      ClinicGuard       what a clinic may do now: writes, and its plan's limits
    usage_counters     UsageCounter      how much of a limited resource a clinic uses now

This module imports no models, so an `apps.py` may import it at its top. The callables an entry
holds usually live in a module that does import models: import that module inside `ready()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar


class Entry(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def order(self) -> int: ...


EntryT = TypeVar("EntryT", bound=Entry)


class Registry(Generic[EntryT]):
    """Entries by name, read in `order` (then name). Adding an entry under a name already taken
    replaces it, so running an app's `ready()` twice does no harm."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, EntryT] = {}

    def register(self, entry: EntryT) -> EntryT:
        self._entries[entry.name] = entry
        return entry

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    def entries(self) -> list[EntryT]:
        return sorted(self._entries.values(), key=lambda e: (e.order, e.name))

    def first(self) -> EntryT | None:
        entries = self.entries()
        return entries[0] if entries else None

    def __iter__(self) -> Iterator[EntryT]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<Registry of {self.kind}: {', '.join(e.name for e in self.entries())}>"


# --- the dashboard ----------------------------------------------------------------------------
@dataclass(frozen=True)
class DashboardPanel:
    """A box on the clinic's dashboard (`clinics/dashboard.py`, `clinics/dashboard.html`).

    Checklist for a new panel:
    - `perm`: the `clinics.roles.Perm` a member needs to see it; nothing is loaded without it.
    - `load(clinic=, membership=, today=)` returns the panel's data as a dict. It runs inside the
      clinic's scope and makes a fixed number of queries whatever the clinic's size (the
      dashboard's query count is pinned by tests/clinics/test_views_dashboard.py).
    - Up to three templates, each rendered with the data as `panel` (and the page's context):
      `search_template` above everything, `figures_template` inside the figures grid (one or two
      `<article>`s), `section_template` a `<section>` below the figures.
    - `order`: place on the page among the others (clinics' plan-limit warning 5, staff 20,
      audit 90 and backups 95; patients 10).
    - Register it in the app's `AppConfig.ready()`: `dashboard_panels.register(PANEL)`.
    """

    name: str
    order: int
    perm: str
    load: Callable[..., dict[str, Any]]
    search_template: str = ""
    figures_template: str = ""
    section_template: str = ""


dashboard_panels: Registry[DashboardPanel] = Registry("dashboard panels")


# --- the audit trail --------------------------------------------------------------------------
@dataclass(frozen=True)
class PatientDirectory:
    """How the audit trail turns the patient ids its events hold into patient numbers and back
    (`clinics/views/audit.py`). The patients app registers the one entry; the first is used.

    Checklist: `id_for_number(number)` gives the id of the patient with that clinic number
    (archived ones too) or None; `numbers_for_ids(ids)` gives {id: "P-000123"} in one query,
    leaving unknown ids out. Both run inside the clinic's scope.
    """

    name: str
    order: int
    id_for_number: Callable[[int], int | None]
    numbers_for_ids: Callable[[Iterable[int]], dict[int, str]]


patient_directory: Registry[PatientDirectory] = Registry("patient directories")


# --- a new clinic ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClinicSetup:
    """What a new clinic starts with, beyond its owner (`clinics.services.clinic_create`).

    Checklist: `run(clinic=Clinic)` runs inside the new clinic's scope and the creating
    transaction, writes its rows directly (it is part of creating the clinic, which its
    `clinics.clinic.created` event records), and is fast (bulk writes). Register it in the
    app's `AppConfig.ready()`; `order` as for demo steps.
    """

    name: str
    order: int
    run: Callable[..., None]


clinic_setup: Registry[ClinicSetup] = Registry("new-clinic setup")


# --- the demo clinic --------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoStep:
    """A step of `manage.py seed_demo` (`clinics/demo.py`): all steps run in `order` inside one
    transaction, sharing one `DemoContext`.

    Checklist for a new step:
    - `run(demo=DemoContext)` creates its data through the services (so the demo's audit trail is
      real), inside `clinic_scope(demo.clinic)`, and appends one line to `demo.summary`.
    - It may use only what lower apps' steps made: `order` follows the dependency order, in tens
      per app: clinics 10, patients 20-30, compliance 35, messaging 40, billing 50.
    - `name` is "<app>.<what>"; register it in the app's `AppConfig.ready()`.
    """

    name: str
    order: int
    run: Callable[..., None]


demo_steps: Registry[DemoStep] = Registry("demo-data steps")


# --- local development ------------------------------------------------------------------------
@dataclass(frozen=True)
class LocalSite:
    """Where `run_local` serves the app, and the port it gives one local service."""

    host: str
    port: int
    service_port: int

    @property
    def shown_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def url(self) -> str:
        return f"http://{self.shown_host}:{self.port}"


def _no_env(site: LocalSite) -> dict[str, str]:
    return {}


def _no_lines(site: LocalSite) -> list[str]:
    return []


@dataclass(frozen=True)
class LocalService:
    """A process `manage.py run_local` (so `make run`) starts beside the web server and workers,
    such as the WhatsApp simulator (registered by `devtools`, which production leaves out).

    Checklist for a new service:
    - `name` names its process and its log (`data/logs/<name>.log`); `title` is what people
      call it ("WhatsApp simulator").
    - `argv(site)`: the `manage.py` command and its arguments (after `manage.py`). It listens on
      `site.service_port`: run_local's `--simulator-port` plus `port_offset`.
    - `app_env(site)`: environment variables the app's own processes need to use it (for the
      simulator, `WHATSAPP_API_BASE_URL`).
    - `on_started(site)`, optional: runs in a thread once every process was started (wait for
      the port, then prepare it); close any database connection it opened.
    - `welcome(site)`: the lines it adds to run_local's first screen (its address).
    - Register it in the app's `AppConfig.ready()`: `local_services.register(SERVICE)`.
    """

    name: str
    order: int
    title: str
    argv: Callable[[LocalSite], list[str]]
    app_env: Callable[[LocalSite], dict[str, str]] = field(default=_no_env)
    on_started: Callable[[LocalSite], None] | None = None
    welcome: Callable[[LocalSite], list[str]] = field(default=_no_lines)
    port_offset: int = 0


local_services: Registry[LocalService] = Registry("local development services")


# --- work waiting on a task -------------------------------------------------------------------
@dataclass(frozen=True)
class WaitingWork:
    """A kind of row that waits on a background task (a document being prepared, a queued
    message, a stored webhook delivery; exports, purges and bill PDFs the same way), so that
    the `vaidya.waiting_work_requeue` schedule (`clinics/recovery.py`) enqueues its task again
    when the task was lost: with Redis, a worker killed with `kill -9` takes the tasks it had
    pulled with it, and nothing else would ever run them.

    Checklist for a new kind:
    - The model records when its task was last enqueued in a `queued_at` field (set it where the
      row is written and enqueued; the sweep sets it when it enqueues again).
    - `stale(cutoff)` returns a `Q` for the rows that wait on the task and were (re-)enqueued
      before `cutoff` (and, when the task marks rows it has started, started before it). Leave
      out rows that wait for something else (a person, an account being reconnected) and rows
      whose task may have had an effect that must not happen twice: those go to a person to
      check (a WhatsApp send that may have left, `Message.uncertain`).
    - `task` is the dotted path of the task, called with the row's id. It must tolerate running
      twice and concurrently: claim the row with a conditional UPDATE (or a row lock) before
      acting, and do nothing for a row that is done or claimed by a live task.
    - `stale_after()`: how long a task can take, from enqueue to end; None is the default
      `TASK_LOST_AFTER_SECONDS` (longer than the cluster's `timeout`). Never shorter than the
      cluster's `timeout`, or a task still running would be started again.
    - `name` is "<app>.<what>"; register it in the app's `AppConfig.ready()`:
      `waiting_work.register(ENTRY)`; add a sweep test (stale vs fresh, run twice).
    """

    name: str
    order: int
    model: Any
    task: str
    stale: Callable[[datetime], Any]
    queued_at: str = "queued_at"
    stale_after: Callable[[], timedelta] | None = None


waiting_work: Registry[WaitingWork] = Registry("work waiting on a task")


# --- reports ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReportSource:
    """Sections of the clinic's reports page (`clinics/reports.py`, `clinics/reports.html`),
    each with its figures, a chart, a table and a CSV file.

    Checklist for a new source:
    - `perm`: a `clinics.roles.Perm` a member needs besides `reports.view` ("" for none);
      nothing is loaded without it.
    - `load(query=ReportQuery)` returns a list of `clinics.reports.ReportSection`. It runs inside
      the clinic's scope, aggregates in the database (GROUP BY the clinic-local day:
      `query.local_day("field")`, rows between `query.start_at` and `query.end_at`) and makes a
      fixed number of queries whatever the period or the clinic's size (pinned by
      tests/clinics/test_reports.py). Honour `query.doctor_id` where rows belong to a doctor,
      and show a doctor's own row only when `query.shows_doctor(id)`.
    - A section's `slug` ("<app>-<what>") is unique across sources: it names the CSV file.
      List them in `slugs`, so that a CSV file runs only the source it comes from.
    - `order`: place on the page (patients 10-30, messaging 40, billing 50).
    - Register it in the app's `AppConfig.ready()`: `report_sources.register(SOURCE)`.
    """

    name: str
    order: int
    load: Callable[..., list[Any]]
    slugs: tuple[str, ...]
    perm: str = ""


report_sources: Registry[ReportSource] = Registry("report sources")


# --- what a clinic may do now ------------------------------------------------------------------
def _no_limit(clinic_id: int, resource: str) -> int | None:
    return None


@dataclass(frozen=True)
class ClinicGuard:
    """A rule above `clinics` about what a clinic may do now: the installation's subscriptions
    (billing) make a clinic read-only after a failed charge's grace period, and hold it to its
    plan's limits. `clinics.guards` asks every entry; with none, everything is allowed.

    Checklist for a new guard:
    - `write_refusal(clinic_id)` returns why the clinic's writes are refused now (a sentence
      for the staff), or None. It runs on every unsafe web request under `/c/<clinic>/` and
      API write, inside the clinic's scope: one indexed query at most.
    - `writes_allowed`: URL names that stay writable when it refuses (the pages where the
      owner puts things right).
    - `limit_refusal(clinic_id, resource, adding)` returns why adding `adding` more of
      `resource` ("doctors", "whatsapp_messages", "storage_mb") is refused, or None. Usage is
      asked of `usage_counters` (`clinics.guards.usage`); for "storage_mb" the usage and
      `adding` are bytes, the limit megabytes (MiB).
    - `limit_of(clinic_id, resource)`, optional: the limit itself (None: unlimited), for the
      owner's dashboard warning near a limit.
    - Register it in the app's `AppConfig.ready()`: `clinic_guards.register(GUARD)`.
    """

    name: str
    order: int
    write_refusal: Callable[[int], str | None]
    limit_refusal: Callable[[int, str, int], str | None]
    writes_allowed: frozenset[str] = frozenset()
    limit_of: Callable[[int, str], int | None] = field(default=_no_limit)


clinic_guards: Registry[ClinicGuard] = Registry("clinic guards")


# --- how much a clinic uses -------------------------------------------------------------------
@dataclass(frozen=True)
class UsageCounter:
    """How much of a limited resource a clinic uses now, counted by the app that holds the rows
    (`clinics.guards.usage` adds up every counter of a resource; the subscription guard
    compares the sum with the plan's limit). So billing's guard counts messages and files
    without importing messaging or patients.

    Resources and their units:
    - "whatsapp_messages": outbound WhatsApp messages created since `since`, the start of the
      calendar month in the clinic's time zone. A message that never reached WhatsApp (failed
      without a WhatsApp id: refused, or Meta said no) does not count.
    - "storage_mb": bytes of files stored for the clinic (`since` is None).

    Checklist for a new counter:
    - `count(clinic_id, since)` returns an int, inside the clinic's scope, in ONE aggregate
      query (`aggregate(Sum(...))` or `count()` on an indexed filter) whatever the clinic's
      size: the guard runs on every send and upload.
    - `resource` is one of the names above; `name` is "<app>.<what>".
    - Register it in the app's `AppConfig.ready()`: `usage_counters.register(COUNTER)`.
    """

    name: str
    order: int
    resource: str
    count: Callable[[int, datetime | None], int]


usage_counters: Registry[UsageCounter] = Registry("usage counters")
