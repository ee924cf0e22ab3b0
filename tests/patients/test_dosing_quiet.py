"""The quiet-hours plan of every frequency the parser knows, against the default quiet hours
(21:30-07:30): no dose is moved closer than the drug's minimum gap to another, and each reminder
lists a medicine once with the time the dose is due (issue 19, item 2)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from patients.dosing import EXAMPLES, parse_frequency, schedule_for
from patients.dosing.parsing import _HOURLY_TIMES, _PHRASES
from patients.dosing.quiet import minimum_gap, quiet_plan

QUIET = (dt.time(21, 30), dt.time(7, 30))
# A clinic with longer quiet hours moves (or drops) night and evening doses too.
LONG_QUIET = (dt.time(20, 0), dt.time(8, 0))


def _known_frequencies() -> list[str]:
    """Every form the parser documents: EXAMPLES, each named code's phrases, every Q<n>H."""
    examples = EXAMPLES.replace(" or ", ", ").replace("'", "").split(", ")
    phrases = [phrase for forms in _PHRASES.values() for phrase in forms]
    hourly = [f"Q{n}H" for n in _HOURLY_TIMES] + ["every 6 hours", "8 hourly"]
    shorthand = ["1-1-1-1", "1-0-0", "0-1-0", "1-1-0", "0-1-1", "2-0-2"]
    return sorted(set(examples + phrases + hourly + shorthand))


FREQUENCIES = _known_frequencies()


@pytest.mark.parametrize("quiet", [QUIET, LONG_QUIET], ids=["21:30-07:30", "20:00-08:00"])
@pytest.mark.parametrize("text", FREQUENCIES)
def test_no_dose_is_moved_closer_than_the_drugs_minimum_gap(text, quiet):
    frequency = parse_frequency(text)
    plan = quiet_plan(frequency, start=quiet[0], end=quiet[1])
    gap = minimum_gap(frequency)
    assert gap >= dt.timedelta(hours=3)
    # Three weeks of the course: every dose at its own time and where it is reminded.
    doses = schedule_for(frequency, start=dt.date(2027, 1, 4), duration_days=21)
    shifts = {d.time: d.shift for d in plan.doses}
    due = [dose.at for dose in doses]
    for dose in doses:
        shift = shifts[dose.time]
        if shift is None or not shift:
            continue
        moved = dose.at + shift
        for other in due:
            if other != dose.at:
                assert abs(moved - other) >= gap, (text, dose.at, moved, other)
    # Reminders of one drug never come closer together than its gap.
    reminded = sorted(d.at + shifts[d.time] for d in doses if shifts[d.time] is not None)
    for first, second in itertools.pairwise(reminded):
        assert second - first >= gap, (text, first, second)


def test_q4h_paracetamol_plan_for_the_doctor():
    plan = quiet_plan(parse_frequency("Q4H"), start=QUIET[0], end=QUIET[1])
    assert [d.time.hour for d in plan.doses if d.reminded] == [10, 14, 18]
    assert plan.summary() == (
        "3 of 6 daily doses will be reminded; 22:00, 02:00 and 06:00 fall in quiet hours and "
        "cannot be moved without coming closer than 4 hours to another dose, so they are not "
        "reminded."
    )


def test_a_bedtime_dose_moves_to_the_evening_edge_and_says_so():
    plan = quiet_plan(parse_frequency("HS"), start=QUIET[0], end=QUIET[1])
    assert plan.doses[0].shift == dt.timedelta(minutes=-30)
    assert plan.summary() == (
        "1 of 1 daily dose will be reminded; the 22:00 dose is reminded at 21:30 (quiet hours)."
    )


def test_frequencies_outside_quiet_hours_say_nothing():
    for text in ("OD", "BD", "TDS", "QID", "Q12H", "1-0-1", "once a week"):
        assert quiet_plan(parse_frequency(text), start=QUIET[0], end=QUIET[1]).summary() == ""


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("Q4H", 4),
        ("Q6H", 6),
        ("Q8H", 8),
        ("Q12H", 12),
        ("OD", 12),
        ("BD", 6),
        ("TDS", 4),
        ("QID", 3),
        ("HS", 12),
        ("1-0-1", 6),
        ("once a week", 12),
    ],
)
def test_the_minimum_gap_of_each_kind_of_frequency(text, hours):
    assert minimum_gap(parse_frequency(text)) == dt.timedelta(hours=hours)
