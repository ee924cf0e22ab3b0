"""A doctor's bookable appointment slots, computed from plain values (no database, no Django).

Appointment services load a doctor's weekly sessions and busy periods (leave, blocked periods and
active appointments), turn them into `Session` and `Busy` values and call the functions here:
`day_slots` / `free_slots` to list what can be booked, `is_bookable` / `explain_unbookable` to
check one requested time. The functions are pure: the caller passes the current time as `now`.

Rules
-----
Slot grid
    Each session lays its slots on the clinic's wall clock: the first starts at the session's
    start, each next one `slot_minutes` later, and only whole slots that end by the session's end
    are kept (a 10:00-10:50 session of 20-minute slots gives 10:00 and 10:20, not 10:40).

Busy periods
    Every interval is half-open, `[start, end)`, and compared in UTC. A slot is dropped when it
    overlaps a busy period; a slot that ends exactly when a busy period starts (or starts exactly
    when one ends) is free.

Overlapping sessions
    Sessions of the same weekday are taken in order: earlier start first; on the same start, the
    one that ends later; then the shorter slot. A session's slot is dropped when it overlaps a
    slot already taken from an earlier session, so the result never holds duplicate or overlapping
    slots. Example: 10:00-13:00 (15 minutes) and 12:00-14:00 (20 minutes) give 10:00, 10:15 ...
    12:45 from the first session, then 13:00, 13:20 and 13:40 from the second.

Time zones and daylight saving
    Sessions are wall-clock times in the clinic's time zone. Each slot boundary is the moment the
    clinic's clock shows it: a time the clock shows twice (when clocks go back) means its first
    showing (`fold=0`); a time the clock skips (when clocks go forward) means the moment of the
    jump. A slot is kept only when its start is a time the clock really shows and its two
    boundaries are exactly `slot_minutes` apart in real time. So, in Europe/London:

    - on the day clocks go forward (01:00 -> 02:00) no slot starts in the missing hour; the
      00:45 slot of a 15-minute grid is kept and ends at 02:00 (the jump), which is 15 real
      minutes;
    - on the day clocks go back (02:00 -> 01:00) each local start appears once, in its first
      showing; a slot whose clock length differs from its real length (01:45-02:00, really 75
      minutes) is dropped, and the second pass through 01:00-02:00 has no slots.

    Returned datetimes are aware, in the clinic's time zone (with `fold` set by the conversio

Modules: `values` (sessions, busy periods, slots and refusals as checked values), `finding`
(the grid and the sweep: `day_slots`, `free_slots`) and `refusals` (`booking_refusal` and the
two questions built on it).
"""

from patients.slots.finding import day_slots, free_slots
from patients.slots.refusals import (
    booking_refusal,
    explain_unbookable,
    is_bookable,
    queue_refusal,
)
from patients.slots.values import (
    MAX_RANGE_DAYS,
    MAX_SLOT_MINUTES,
    MIN_SLOT_MINUTES,
    Busy,
    BusyReason,
    Refusal,
    RefusalCode,
    Session,
    Slot,
)

__all__ = [
    "MAX_RANGE_DAYS",
    "MAX_SLOT_MINUTES",
    "MIN_SLOT_MINUTES",
    "Busy",
    "BusyReason",
    "Refusal",
    "RefusalCode",
    "Session",
    "Slot",
    "booking_refusal",
    "day_slots",
    "explain_unbookable",
    "free_slots",
    "is_bookable",
    "queue_refusal",
]
