"""Make django-q2's schedules match the ones declared in code (clinics/schedules.py)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from clinics.schedules import SCHEDULE_PREFIX, declared_schedules

# The fields a declared schedule may set, with django-q2's value when it leaves one out.
SYNCED_FIELDS = {
    "func": None,
    "schedule_type": Schedule.ONCE,
    "minutes": None,
    "cron": None,
    "args": None,
    "kwargs": None,
    "hook": None,
    "repeats": -1,
    "cluster": None,
}


class Command(BaseCommand):
    help = (
        "Create or update the django-q2 schedules declared in code (by name) and delete "
        f"'{SCHEDULE_PREFIX}' schedules that are no longer declared."
    )

    def handle(self, *args, **options):
        declared = {}
        for spec in declared_schedules():
            name = spec.get("name", "")
            if not name.startswith(SCHEDULE_PREFIX) or not spec.get("func"):
                raise CommandError(
                    f"Schedule {name!r} needs a name starting with {SCHEDULE_PREFIX!r} and a func."
                )
            unknown = set(spec) - set(SYNCED_FIELDS) - {"name"}
            if unknown:
                raise CommandError(f"Schedule {name!r} sets unknown fields: {sorted(unknown)}")
            if name in declared:
                raise CommandError(f"Schedule {name!r} is declared twice.")
            declared[name] = {field: spec.get(field, d) for field, d in SYNCED_FIELDS.items()}

        counts = {"created": 0, "updated": 0, "unchanged": 0, "deleted": 0}
        with transaction.atomic():
            for name, wanted in declared.items():
                rows = list(Schedule.objects.filter(name=name).order_by("pk"))
                for duplicate in rows[1:]:
                    duplicate.delete()
                    self.stdout.write(f"deleted duplicate {name} (id {duplicate.pk})")
                    counts["deleted"] += 1
                if not rows:
                    Schedule.objects.create(name=name, next_run=timezone.now(), **wanted)
                    self.stdout.write(f"created   {name}: {_describe(wanted)}")
                    counts["created"] += 1
                    continue
                schedule = rows[0]
                changed = [f for f, v in wanted.items() if getattr(schedule, f) != v]
                if not changed:
                    self.stdout.write(f"unchanged {name}: {_describe(wanted)}")
                    counts["unchanged"] += 1
                    continue
                for field in changed:
                    setattr(schedule, field, wanted[field])
                schedule.save(update_fields=changed)
                self.stdout.write(
                    f"updated   {name}: {_describe(wanted)} (changed {', '.join(changed)})"
                )
                counts["updated"] += 1
            stale = Schedule.objects.filter(name__startswith=SCHEDULE_PREFIX).exclude(
                name__in=list(declared)
            )
            for schedule in stale.order_by("name"):
                self.stdout.write(f"deleted   {schedule.name}: no longer declared")
                schedule.delete()
                counts["deleted"] += 1
        self.stdout.write(
            self.style.SUCCESS(
                "Schedules in sync: "
                + ", ".join(f"{count} {what}" for what, count in counts.items())
                + "."
            )
        )


def _describe(spec: dict) -> str:
    if spec["schedule_type"] == Schedule.MINUTES:
        minutes = spec["minutes"]
        every = "every minute" if minutes == 1 else f"every {minutes} minutes"
    elif spec["schedule_type"] == Schedule.CRON:
        every = f"cron '{spec['cron']}'"
    else:
        every = str(dict(Schedule.TYPE).get(spec["schedule_type"], spec["schedule_type"])).lower()
    return f"{spec['func']} {every}"
