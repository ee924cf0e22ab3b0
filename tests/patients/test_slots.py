"""Bookable slots (patients/slots/): pure functions, no database."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from patients.slots import (
    MAX_RANGE_DAYS,
    Busy,
    BusyReason,
    RefusalCode,
    Session,
    Slot,
    booking_refusal,
    day_slots,
    explain_unbookable,
    free_slots,
    is_bookable,
)

KOLKATA = ZoneInfo("Asia/Kolkata")
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")

MONDAY = date(2027, 1, 4)
TUESDAY = date(2027, 1, 5)
SUNDAY = date(2027, 1, 10)
# Europe/London: clocks go forward 01:00 -> 02:00 on 28 Mar 2027, back 02:00 -> 01:00 on 31 Oct.
LONDON_SPRING = date(2027, 3, 28)
LONDON_AUTUMN = date(2027, 10, 31)
# America/New_York: forward 02:00 -> 03:00 on 14 Mar 2027, back 02:00 -> 01:00 on 7 Nov.
NEW_YORK_SPRING = date(2027, 3, 14)
NEW_YORK_AUTUMN = date(2027, 11, 7)


def at(day: date, hhmm: str, tz: ZoneInfo = KOLKATA, fold: int = 0) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=tz).replace(fold=fold)


def clinic_days(start: str = "10:00", end: str = "13:00", minutes: int = 15) -> list[Session]:
    """Monday to Saturday, one session a day."""
    return [Session(weekday, _t(start), _t(end), minutes) for weekday in range(6)]


def two_sessions(weekday: int = 0, minutes: int = 15) -> list[Session]:
    return [
        Session(weekday, time(10), time(13), minutes),
        Session(weekday, time(17), time(20), minutes),
    ]


def _t(hhmm: str) -> time:
    hour, minute = map(int, hhmm.split(":"))
    return time(hour, minute)


def starts(slots: list[Slot]) -> list[str]:
    return [f"{slot.start:%H:%M}" for slot in slots]


def assert_well_formed(slots: list[Slot], tz: ZoneInfo) -> None:
    """Aware, in the clinic's zone, strictly increasing in real time and never overlapping."""
    for slot in slots:
        assert slot.start.tzinfo is tz and slot.end.tzinfo is tz
        assert slot.start.astimezone(UTC) < slot.end.astimezone(UTC)
    for earlier, later in itertools.pairwise(slots):
        assert earlier.end.astimezone(UTC) <= later.start.astimezone(UTC)


# --- the grid ---------------------------------------------------------------------------------


def test_two_sessions_a_day_give_morning_and_evening_slots():
    slots = day_slots(day=MONDAY, tz=KOLKATA, sessions=two_sessions(), busy=[])

    assert len(slots) == 24
    assert starts(slots)[:2] == ["10:00", "10:15"]
    assert starts(slots)[11:13] == ["12:45", "17:00"]
    assert slots[-1].start == at(MONDAY, "19:45") and slots[-1].end == at(MONDAY, "20:00")
    assert slots[0].start.utcoffset() == timedelta(hours=5, minutes=30)
    assert slots[0].start.astimezone(UTC) == datetime(2027, 1, 4, 4, 30, tzinfo=UTC)
    assert all(slot.minutes == 15 for slot in slots)
    assert_well_formed(slots, KOLKATA)


@pytest.mark.parametrize(
    ("minutes", "session_end", "expected"),
    [
        (10, "10:55", ["10:00", "10:10", "10:20", "10:30", "10:40"]),
        (15, "11:00", ["10:00", "10:15", "10:30", "10:45"]),
        (15, "10:55", ["10:00", "10:15", "10:30"]),
        (20, "10:50", ["10:00", "10:20"]),
    ],
)
def test_only_whole_slots_that_end_by_the_session_end_are_kept(minutes, session_end, expected):
    sessions = [Session(0, time(10), _t(session_end), minutes)]

    slots = day_slots(day=MONDAY, tz=KOLKATA, sessions=sessions, busy=[])

    assert starts(slots) == expected
    assert slots[-1].end <= at(MONDAY, session_end)
    assert all(slot.minutes == minutes for slot in slots)


def test_weekday_without_sessions_has_no_slots():
    assert day_slots(day=SUNDAY, tz=KOLKATA, sessions=clinic_days(), busy=[]) == []
    assert day_slots(day=TUESDAY, tz=KOLKATA, sessions=two_sessions(weekday=0), busy=[]) == []


def test_sessions_of_other_weekdays_are_ignored():
    sessions = [*two_sessions(weekday=0), Session(1, time(8), time(9), 30)]

    assert starts(day_slots(day=TUESDAY, tz=KOLKATA, sessions=sessions, busy=[])) == [
        "08:00",
        "08:30",
    ]


# --- busy periods -----------------------------------------------------------------------------


def test_leave_covering_the_whole_day_leaves_nothing_to_book():
    leave = Busy(at(MONDAY, "00:00"), at(TUESDAY, "00:00"), BusyReason.LEAVE)

    assert day_slots(day=MONDAY, tz=KOLKATA, sessions=two_sessions(), busy=[leave]) == []


def test_leave_given_in_utc_covers_the_clinic_local_day():
    # 4 Jan 2027 in Kolkata is 3 Jan 18:30 UTC to 4 Jan 18:30 UTC.
    leave = Busy(
        datetime(2027, 1, 3, 18, 30, tzinfo=UTC), datetime(2027, 1, 4, 18, 30, tzinfo=UTC), "leave"
    )

    assert day_slots(day=MONDAY, tz=KOLKATA, sessions=two_sessions(), busy=[leave]) == []
    tuesday = day_slots(day=TUESDAY, tz=KOLKATA, sessions=two_sessions(weekday=1), busy=[leave])
    assert len(tuesday) == 24


def test_blocked_period_in_the_middle_removes_only_the_slots_it_touches():
    blocked = Busy(at(MONDAY, "11:00"), at(MONDAY, "12:00"), BusyReason.BLOCKED)

    slots = day_slots(day=MONDAY, tz=KOLKATA, sessions=two_sessions(), busy=[blocked])

    assert starts(slots)[:6] == ["10:00", "10:15", "10:30", "10:45", "12:00", "12:15"]
    assert len(slots) == 20


def test_existing_appointments_take_their_slots_and_any_slot_they_overlap():
    busy = [
        Busy(at(MONDAY, "10:15"), at(MONDAY, "10:30"), BusyReason.APPOINTMENT),
        # An odd-length appointment overlapping two slots blocks both.
        Busy(at(MONDAY, "11:05"), at(MONDAY, "11:20"), BusyReason.APPOINTMENT),
    ]

    slots = day_slots(day=MONDAY, tz=KOLKATA, sessions=two_sessions(), busy=busy)

    morning = starts(slots)[:8]
    assert morning == ["10:00", "10:30", "10:45", "11:30", "11:45", "12:00", "12:15", "12:30"]


def test_busy_periods_are_half_open():
    busy = [Busy(at(MONDAY, "10:30"), at(MONDAY, "10:45"), BusyReason.APPOINTMENT)]

    slots = day_slots(day=MONDAY, tz=KOLKATA, sessions=two_sessions(), busy=busy)

    # 10:15-10:30 ends exactly when the appointment starts; 10:45 starts exactly when it ends.
    assert starts(slots)[:4] == ["10:00", "10:15", "10:45", "11:00"]


def test_busy_periods_in_another_time_zone_are_compared_in_real_time():
    # 05:00-05:30 UTC is 10:30-11:00 in Kolkata.
    busy = [Busy(datetime(2027, 1, 4, 5, 0, tzinfo=UTC), datetime(2027, 1, 4, 5, 30, tzinfo=UTC))]

    slots = day_slots(day=MONDAY, tz=KOLKATA, sessions=two_sessions(), busy=busy)

    assert starts(slots)[:4] == ["10:00", "10:15", "11:00", "11:15"]


# --- now and notice ---------------------------------------------------------------------------


def test_slots_before_now_are_dropped():
    slots = day_slots(
        day=MONDAY, tz=KOLKATA, sessions=two_sessions(), busy=[], now=at(MONDAY, "11:07")
    )

    assert starts(slots)[0] == "11:15"


def test_a_slot_starting_exactly_now_is_kept():
    slots = day_slots(
        day=MONDAY, tz=KOLKATA, sessions=two_sessions(), busy=[], now=at(MONDAY, "11:15")
    )

    assert starts(slots)[0] == "11:15"


def test_min_notice_pushes_the_first_slot_later():
    slots = day_slots(
        day=MONDAY,
        tz=KOLKATA,
        sessions=two_sessions(),
        busy=[],
        now=at(MONDAY, "11:07"),
        min_notice=timedelta(hours=1),
    )

    assert starts(slots)[0] == "12:15"


def test_now_in_another_time_zone_is_compared_in_real_time():
    now = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)  # 17:30 in Kolkata

    slots = day_slots(day=MONDAY, tz=KOLKATA, sessions=two_sessions(), busy=[], now=now)

    assert starts(slots)[0] == "17:30"


def test_min_notice_without_now_and_naive_now_are_refused():
    with pytest.raises(ValueError, match="min_notice needs now"):
        day_slots(
            day=MONDAY, tz=KOLKATA, sessions=two_sessions(), busy=[], min_notice=timedelta(hours=1)
        )
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        day_slots(
            day=MONDAY, tz=KOLKATA, sessions=two_sessions(), busy=[], now=datetime(2027, 1, 4, 9)
        )


# --- overlapping sessions ---------------------------------------------------------------------


def test_overlapping_sessions_do_not_produce_overlapping_slots():
    sessions = [Session(0, time(10), time(13), 15), Session(0, time(12), time(14), 20)]

    slots = day_slots(day=MONDAY, tz=KOLKATA, sessions=sessions, busy=[])

    # The earlier session keeps its grid; the later one adds only slots that fit after it.
    assert starts(slots)[-4:] == ["12:45", "13:00", "13:20", "13:40"]
    assert len(slots) == 15
    assert_well_formed(slots, KOLKATA)


def test_on_the_same_start_the_longer_session_wins_and_order_of_input_does_not_matter():
    short = Session(0, time(10), time(11), 15)
    long = Session(0, time(10), time(12), 30)

    first = day_slots(day=MONDAY, tz=KOLKATA, sessions=[short, long], busy=[])
    second = day_slots(day=MONDAY, tz=KOLKATA, sessions=[long, short], busy=[])

    assert starts(first) == ["10:00", "10:30", "11:00", "11:30"]
    assert all(slot.minutes == 30 for slot in first)
    assert first == second


def test_duplicate_sessions_do_not_duplicate_slots():
    session = Session(0, time(10), time(11), 15)

    slots = day_slots(day=MONDAY, tz=KOLKATA, sessions=[session, session], busy=[])

    assert starts(slots) == ["10:00", "10:15", "10:30", "10:45"]


def test_a_session_inside_another_only_adds_slots_in_its_gaps():
    sessions = [Session(0, time(10), time(11), 30), Session(0, time(10, 10), time(12), 10)]

    slots = day_slots(day=MONDAY, tz=KOLKATA, sessions=sessions, busy=[])

    assert starts(slots) == ["10:00", "10:30"] + [f"11:{m:02d}" for m in range(0, 60, 10)]
    assert_well_formed(slots, KOLKATA)


# --- time zones and daylight saving -----------------------------------------------------------


def test_london_spring_forward_has_no_slot_in_the_missing_hour():
    sessions = [Session(6, time(0), time(3), 15)]

    slots = day_slots(day=LONDON_SPRING, tz=LONDON, sessions=sessions, busy=[])

    assert starts(slots) == ["00:00", "00:15", "00:30", "00:45", "02:00", "02:15", "02:30", "02:45"]
    assert all(slot.start.hour != 1 for slot in slots)
    # 00:45 GMT to 02:00 BST is 15 real minutes: the clock jumps at 01:00 GMT.
    assert slots[3].end == at(LONDON_SPRING, "02:00", LONDON)
    assert all(slot.minutes == 15 for slot in slots)
    assert slots[0].start.utcoffset() == timedelta(0)
    assert slots[-1].start.utcoffset() == timedelta(hours=1)
    assert_well_formed(slots, LONDON)


def test_london_spring_forward_drops_a_slot_the_jump_would_shorten():
    sessions = [Session(6, time(0, 30), time(3, 30), 60)]

    slots = day_slots(day=LONDON_SPRING, tz=LONDON, sessions=sessions, busy=[])

    # 00:30-01:30 lasts 30 real minutes and 01:30 never shows on the clock.
    assert starts(slots) == ["02:30"]
    assert slots[0].minutes == 60


def test_london_autumn_repeated_hour_gives_each_local_start_once():
    sessions = [Session(6, time(0), time(3), 15)]

    slots = day_slots(day=LONDON_AUTUMN, tz=LONDON, sessions=sessions, busy=[])

    local_starts = [slot.start.replace(tzinfo=None) for slot in slots]
    assert len(local_starts) == len(set(local_starts))
    # 01:45 BST to 02:00 GMT is 75 real minutes, so that slot is not offered.
    assert starts(slots) == [
        "00:00", "00:15", "00:30", "00:45", "01:00", "01:15", "01:30",
        "02:00", "02:15", "02:30", "02:45",
    ]  # fmt: skip
    # Each repeated time means its first showing (British Summer Time).
    one_am = slots[4]
    assert one_am.start.fold == 0
    assert one_am.start.astimezone(UTC) == datetime(2027, 10, 31, 0, 0, tzinfo=UTC)
    assert all(slot.minutes == 15 for slot in slots)
    assert_well_formed(slots, LONDON)


def test_london_autumn_busy_in_the_second_pass_of_the_hour_leaves_the_first_pass_free():
    sessions = [Session(6, time(0), time(3), 15)]
    # 01:00-02:00 UTC is the second 01:00-02:00 on London clocks (GMT).
    second_pass = Busy(
        datetime(2027, 10, 31, 1, 0, tzinfo=UTC), datetime(2027, 10, 31, 2, 0, tzinfo=UTC)
    )

    slots = day_slots(day=LONDON_AUTUMN, tz=LONDON, sessions=sessions, busy=[second_pass])

    assert "01:00" in starts(slots) and "01:30" in starts(slots)
    assert starts(slots)[-4:] == ["02:00", "02:15", "02:30", "02:45"]


def test_london_daytime_sessions_follow_the_clock_change():
    sessions = [Session(weekday, time(9), time(12), 20) for weekday in range(7)]

    saturday = day_slots(
        day=LONDON_SPRING - timedelta(days=1), tz=LONDON, sessions=sessions, busy=[]
    )
    sunday = day_slots(day=LONDON_SPRING, tz=LONDON, sessions=sessions, busy=[])

    assert starts(saturday) == starts(sunday)
    assert saturday[0].start.astimezone(UTC).hour == 9
    assert sunday[0].start.astimezone(UTC).hour == 8


def test_new_york_spring_forward_and_fall_back():
    night = [Session(6, time(1), time(4), 30)]

    spring = day_slots(day=NEW_YORK_SPRING, tz=NEW_YORK, sessions=night, busy=[])
    autumn = day_slots(day=NEW_YORK_AUTUMN, tz=NEW_YORK, sessions=night, busy=[])

    # 02:00-03:00 does not exist; 01:30 EST to 03:00 EDT is 30 real minutes.
    assert starts(spring) == ["01:00", "01:30", "03:00", "03:30"]
    assert spring[1].end == at(NEW_YORK_SPRING, "03:00", NEW_YORK)
    # 01:30 EDT to 02:00 EST is 90 real minutes; the repeated hour is offered once.
    assert starts(autumn) == ["01:00", "02:00", "02:30", "03:00", "03:30"]
    assert autumn[0].start.utcoffset() == timedelta(hours=-4)
    assert autumn[1].start.utcoffset() == timedelta(hours=-5)
    for slots in (spring, autumn):
        assert all(slot.minutes == 30 for slot in slots)
        assert_well_formed(slots, NEW_YORK)


def test_slots_compare_by_real_time_not_by_clock_reading():
    first = Slot(at(LONDON_AUTUMN, "01:00", LONDON), at(LONDON_AUTUMN, "01:15", LONDON))
    second = Slot(
        at(LONDON_AUTUMN, "01:00", LONDON, fold=1), at(LONDON_AUTUMN, "01:15", LONDON, fold=1)
    )

    assert first != second
    assert len({first, second}) == 2
    assert sorted([second, first]) == [first, second]


# --- ranges -----------------------------------------------------------------------------------


def test_free_slots_lists_every_day_of_the_range():
    leave = Busy(at(TUESDAY, "00:00"), at(TUESDAY + timedelta(days=1), "00:00"), "leave")

    week = free_slots(start_day=MONDAY, days=7, tz=KOLKATA, sessions=clinic_days(), busy=[leave])

    assert list(week) == [MONDAY + timedelta(days=n) for n in range(7)]
    assert len(week[MONDAY]) == 12
    assert week[TUESDAY] == []
    assert week[SUNDAY] == []
    assert len(week[date(2027, 1, 9)]) == 12  # Saturday


def test_free_slots_matches_day_slots_day_by_day():
    rng = random.Random(7)
    sessions = [*two_sessions(weekday=0), *two_sessions(weekday=3, minutes=20)]
    busy = random_busy(rng, LONDON, date(2027, 3, 1), days=62, count=120)
    now = at(date(2027, 3, 10), "12:00", LONDON)

    ranged = free_slots(
        start_day=date(2027, 3, 1), days=62, tz=LONDON, sessions=sessions, busy=busy, now=now
    )

    for day, slots in ranged.items():
        single = day_slots(day=day, tz=LONDON, sessions=sessions, busy=busy, now=now)
        assert slots == single
    assert any(ranged.values())


def test_free_slots_range_limit():
    args = {"start_day": MONDAY, "tz": KOLKATA, "sessions": clinic_days(), "busy": []}

    assert len(free_slots(days=MAX_RANGE_DAYS, **args)) == 62
    with pytest.raises(ValueError, match="at most 62 days"):
        free_slots(days=63, **args)
    with pytest.raises(ValueError, match="at least 1"):
        free_slots(days=0, **args)


def random_busy(
    rng: random.Random, tz: ZoneInfo, first_day: date, *, days: int, count: int
) -> list[Busy]:
    base = datetime.combine(first_day, time(0), tzinfo=tz).astimezone(UTC)
    reasons = list(BusyReason)
    busy = []
    for _ in range(count):
        start = base + timedelta(minutes=rng.randrange(0, days * 24 * 60))
        length = timedelta(minutes=rng.choice([5, 10, 15, 20, 30, 45, 60, 180, 24 * 60]))
        busy.append(Busy(start, start + length, rng.choice(reasons)))
    return busy


def test_sweep_over_500_busy_periods_matches_a_slot_by_slot_check():
    """The sorted sweep must drop exactly the slots a naive check of every busy period drops."""
    rng = random.Random(20270104)
    sessions = [
        Session(weekday, start, end, minutes)
        for weekday in range(7)
        for start, end, minutes in (
            (time(9), time(12), 15),
            (time(13), time(16, 5), 10),
            (time(17), time(21), 20),
        )
    ]
    busy = random_busy(rng, KOLKATA, MONDAY, days=62, count=500)
    rng.shuffle(busy)
    now = at(MONDAY, "13:33")

    everything = free_slots(start_day=MONDAY, days=62, tz=KOLKATA, sessions=sessions, busy=[])
    free = free_slots(start_day=MONDAY, days=62, tz=KOLKATA, sessions=sessions, busy=busy, now=now)

    dropped = kept = 0
    for day, all_slots in everything.items():
        expected = [
            slot
            for slot in all_slots
            if slot.start >= now
            and not any(b.start < slot.end and slot.start < b.end for b in busy)
        ]
        assert free[day] == expected
        kept += len(expected)
        dropped += len(all_slots) - len(expected)
    # The data must exercise both outcomes for the comparison to mean anything.
    assert kept > 300 and dropped > 300


# --- is_bookable and explain_unbookable -------------------------------------------------------


def check(start: datetime, end: datetime, **overrides):
    args = {
        "start": start,
        "end": end,
        "tz": KOLKATA,
        "sessions": clinic_days(),
        "busy": [],
        "now": at(MONDAY, "08:00"),
    }
    args.update(overrides)
    bookable = is_bookable(**{name: value for name, value in args.items() if name != "doctor"})
    return booking_refusal(**args), explain_unbookable(**args), bookable


def test_a_free_slot_is_bookable():
    refusal, message, bookable = check(at(MONDAY, "10:15"), at(MONDAY, "10:30"))

    assert (refusal, message, bookable) == (None, None, True)


def test_outside_working_hours():
    refusal, message, bookable = check(at(MONDAY, "15:00"), at(MONDAY, "15:15"), doctor="Dr Rao")

    assert not bookable
    assert refusal.code == RefusalCode.OUTSIDE_HOURS
    assert message == (
        "4 Jan 2027, 3:00 pm is outside Dr Rao's working hours. "
        "On Mondays Dr Rao sees patients 10:00 am to 1:00 pm."
    )


def test_a_slot_running_past_the_session_end_is_outside_working_hours():
    refusal, _, bookable = check(at(MONDAY, "12:50"), at(MONDAY, "13:05"))

    assert not bookable
    assert refusal.code == RefusalCode.OUTSIDE_HOURS


def test_a_day_without_sessions_is_outside_working_hours():
    refusal, message, _ = check(at(SUNDAY, "10:00"), at(SUNDAY, "10:15"))

    assert refusal.code == RefusalCode.OUTSIDE_HOURS
    assert message == (
        "10 Jan 2027, 10:00 am is outside the doctor's working hours: "
        "the doctor does not see patients on Sundays."
    )


def test_on_leave():
    leave = Busy(at(MONDAY, "00:00"), at(TUESDAY, "00:00"), BusyReason.LEAVE)

    refusal, message, bookable = check(at(MONDAY, "10:00"), at(MONDAY, "10:15"), busy=[leave])

    assert not bookable
    assert refusal.code == RefusalCode.LEAVE
    assert message == "The doctor is on leave at that time. Please choose another time."


def test_blocked():
    blocked = Busy(at(MONDAY, "11:00"), at(MONDAY, "12:00"), BusyReason.BLOCKED)

    refusal, message, _ = check(
        at(MONDAY, "11:30"), at(MONDAY, "11:45"), busy=[blocked], doctor="Dr Rao"
    )

    assert refusal.code == RefusalCode.BLOCKED
    assert message == "Dr Rao's calendar is blocked at that time. Please choose another time."


def test_already_booked():
    booked = Busy(at(MONDAY, "10:15"), at(MONDAY, "10:30"), BusyReason.APPOINTMENT)

    refusal, message, bookable = check(at(MONDAY, "10:15"), at(MONDAY, "10:30"), busy=[booked])

    assert not bookable
    assert refusal.code == RefusalCode.BOOKED
    assert message == "4 Jan 2027, 10:15 am is already booked. Please choose a free slot."
    # Half-open: the slots either side are still free.
    assert check(at(MONDAY, "10:00"), at(MONDAY, "10:15"), busy=[booked])[2]
    assert check(at(MONDAY, "10:30"), at(MONDAY, "10:45"), busy=[booked])[2]


def test_other_busy_period():
    busy = Busy(at(MONDAY, "10:15"), at(MONDAY, "10:30"))

    refusal, message, _ = check(at(MONDAY, "10:15"), at(MONDAY, "10:30"), busy=[busy])

    assert refusal.code == RefusalCode.BUSY
    assert message == "The doctor is not available at that time. Please choose another time."


def test_leave_is_reported_before_an_appointment_in_the_same_time():
    busy = [
        Busy(at(MONDAY, "10:00"), at(MONDAY, "10:15"), BusyReason.APPOINTMENT),
        Busy(at(MONDAY, "00:00"), at(TUESDAY, "00:00"), BusyReason.LEAVE),
    ]

    assert check(at(MONDAY, "10:00"), at(MONDAY, "10:15"), busy=busy)[0].code == RefusalCode.LEAVE


def test_in_the_past():
    refusal, message, bookable = check(
        at(MONDAY, "10:00"), at(MONDAY, "10:15"), now=at(MONDAY, "10:01")
    )

    assert not bookable
    assert refusal.code == RefusalCode.PAST
    assert message == "4 Jan 2027, 10:00 am is in the past. Please choose a later time."


def test_too_little_notice():
    refusal, message, _ = check(
        at(MONDAY, "11:00"),
        at(MONDAY, "11:15"),
        now=at(MONDAY, "10:01"),
        min_notice=timedelta(hours=1, minutes=30),
    )

    assert refusal.code == RefusalCode.SHORT_NOTICE
    assert message == (
        "4 Jan 2027, 11:00 am is too soon: appointments need at least 1 hour 30 minutes notice. "
        "Please choose a time after 4 Jan 2027, 11:31 am."
    )


def test_not_on_the_slot_grid_suggests_the_nearest_free_slots():
    booked = Busy(at(MONDAY, "10:15"), at(MONDAY, "10:30"), BusyReason.APPOINTMENT)

    refusal, message, bookable = check(
        at(MONDAY, "10:35"), at(MONDAY, "10:50"), busy=[booked], doctor="Dr Rao"
    )

    assert not bookable
    assert refusal.code == RefusalCode.OFF_GRID
    assert message == (
        "4 Jan 2027, 10:35 am does not match Dr Rao's appointment slots: they are 15 minutes "
        "long, starting from 10:00 am. The nearest free slots start at 10:30 am and 10:45 am."
    )


def test_a_slot_start_with_the_wrong_length_is_not_on_the_grid():
    refusal, message, _ = check(at(MONDAY, "10:15"), at(MONDAY, "10:45"))

    assert refusal.code == RefusalCode.OFF_GRID
    assert message == (
        "Appointments at 4 Jan 2027, 10:15 am last 15 minutes, so this one must end at 10:30 am."
    )


def test_end_before_start_is_refused():
    refusal, message, bookable = check(at(MONDAY, "10:15"), at(MONDAY, "10:15"))

    assert not bookable
    assert refusal.code == RefusalCode.INVALID_RANGE
    assert message == "The appointment must end after it starts."


def test_bookable_request_in_another_time_zone():
    # 10:15-10:30 in Kolkata, asked for in UTC.
    start = datetime(2027, 1, 4, 4, 45, tzinfo=UTC)

    assert check(start, start + timedelta(minutes=15))[2]


def test_repeated_hour_only_its_first_showing_is_bookable():
    sessions = [Session(6, time(0), time(3), 15)]
    args = {"tz": LONDON, "sessions": sessions, "busy": []}

    first = at(LONDON_AUTUMN, "01:15", LONDON)
    second = at(LONDON_AUTUMN, "01:15", LONDON, fold=1)

    assert is_bookable(start=first, end=first + timedelta(minutes=15), **args)
    refusal = booking_refusal(
        start=second, end=second.astimezone(UTC) + timedelta(minutes=15), **args
    )
    assert refusal.code == RefusalCode.OFF_GRID


def test_is_bookable_agrees_with_day_slots():
    sessions = [Session(0, time(10), time(13), 15), Session(0, time(12), time(14), 20)]
    busy = [
        Busy(at(MONDAY, "11:05"), at(MONDAY, "11:20"), BusyReason.APPOINTMENT),
        Busy(at(MONDAY, "12:00"), at(MONDAY, "12:30"), BusyReason.BLOCKED),
        Busy(at(MONDAY, "13:20"), at(MONDAY, "13:40"), BusyReason.LEAVE),
    ]
    now = at(MONDAY, "10:40")
    offered = set(day_slots(day=MONDAY, tz=KOLKATA, sessions=sessions, busy=busy, now=now))
    assert starts(sorted(offered)) == [
        "10:45",
        "11:30",
        "11:45",
        "12:30",
        "12:45",
        "13:00",
        "13:40",
    ]

    for minute in range(9 * 60, 15 * 60, 5):
        start = at(MONDAY, "00:00") + timedelta(minutes=minute)
        for length in (10, 15, 20):
            end = start + timedelta(minutes=length)
            bookable = is_bookable(
                start=start, end=end, tz=KOLKATA, sessions=sessions, busy=busy, now=now
            )
            assert bookable == (Slot(start, end) in offered)


def test_naive_request_times_are_refused():
    with pytest.raises(ValueError, match="start must be timezone-aware"):
        is_bookable(
            start=datetime(2027, 1, 4, 10),
            end=datetime(2027, 1, 4, 10, 15),
            tz=KOLKATA,
            sessions=clinic_days(),
            busy=[],
        )


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekday", "start", "end", "minutes", "message"),
    [
        (0, time(13), time(10), 15, "must end after it starts"),
        (0, time(10), time(10), 15, "must end after it starts"),
        (0, time(10), time(13), 4, "between 5 and 240 minutes"),
        (0, time(10), time(16), 241, "between 5 and 240 minutes"),
        (0, time(10), time(10, 10), 15, "shorter than one 15-minute slot"),
        (7, time(10), time(13), 15, "0 \\(Monday\\) to 6 \\(Sunday\\)"),
        (0, time(10, tzinfo=UTC), time(13), 15, "without a time zone"),
    ],
)
def test_invalid_sessions_are_refused(weekday, start, end, minutes, message):
    with pytest.raises(ValueError, match=message):
        Session(weekday, start, end, minutes)


def test_session_limits_are_allowed():
    assert Session(0, time(10), time(10, 5), 5).slot_minutes == 5
    assert Session(6, time(8), time(12), 240).slot_minutes == 240


def test_invalid_busy_periods_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        Busy(datetime(2027, 1, 4, 10), at(MONDAY, "11:00"))
    with pytest.raises(ValueError, match="must end after it starts"):
        Busy(at(MONDAY, "11:00"), at(MONDAY, "11:00"))
    with pytest.raises(ValueError, match="Unknown busy reason 'holiday'"):
        Busy(at(MONDAY, "10:00"), at(MONDAY, "11:00"), "holiday")
