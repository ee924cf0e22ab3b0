"""The clinic's quiet hours (MessagingSettings.quiet_hours_start/end, clinic local time; the
edges themselves are not quiet), and moving a time out of them. What each kind of reminder does
in quiet hours is described in `messaging.services.reminders`."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from messaging.models import MessagingSettings


def is_quiet(t: dt.time, start: dt.time, end: dt.time) -> bool:
    if start == end:
        return False
    if start < end:
        return start < t < end
    return t > start or t < end  # wraps midnight (21:30 - 07:30)


def quiet_hours(settings: MessagingSettings) -> tuple[dt.time, dt.time]:
    """(start, end) of the clinic's quiet hours."""
    start, end = settings.quiet_hours_start, settings.quiet_hours_end
    if isinstance(start, str):  # unsaved defaults are strings
        start = dt.time.fromisoformat(start)
    if isinstance(end, str):
        end = dt.time.fromisoformat(end)
    return start, end


def quiet_adjusted(
    at: dt.datetime, *, tz: zoneinfo.ZoneInfo, settings: MessagingSettings, nearest: bool = False
) -> dt.datetime:
    """`at` moved out of the clinic's quiet hours (UTC in, UTC out).

    By default to the end of quiet hours; with `nearest`, to the nearer edge (doses).
    """
    start, end = quiet_hours(settings)
    return out_of_quiet(at, tz=tz, start=start, end=end, nearest=nearest)


def out_of_quiet(
    at: dt.datetime, *, tz: zoneinfo.ZoneInfo, start: dt.time, end: dt.time, nearest: bool
) -> dt.datetime:
    """`quiet_adjusted` for quiet hours read once (`quiet_hours`) and used for many times."""
    local = at.astimezone(tz)
    if not is_quiet(local.time(), start, end):
        return at
    day = local.date()
    # The quiet period containing `local`: [start_dt, end_dt].
    if start < end or local.time() > start:
        start_dt = dt.datetime.combine(day, start)
    else:
        start_dt = dt.datetime.combine(day - dt.timedelta(days=1), start)
    end_dt = dt.datetime.combine(start_dt.date(), end)
    if end_dt <= start_dt:
        end_dt += dt.timedelta(days=1)
    start_aware = start_dt.replace(tzinfo=tz)
    end_aware = end_dt.replace(tzinfo=tz)
    if nearest and (local - start_aware) <= (end_aware - local):
        return start_aware.astimezone(dt.UTC)
    return end_aware.astimezone(dt.UTC)
