"""Prescription frequency parsing, schedules, dispensing quantities and JSON storage."""

from __future__ import annotations

import json
from datetime import date, time
from decimal import Decimal

import pytest

from patients.dosing import (
    Dose,
    Frequency,
    FrequencyError,
    ScheduledDose,
    from_json,
    parse_frequency,
    quantity_to_dispense,
    schedule_for,
    to_json,
)

D = Decimal
MORNING, AFTERNOON, EVENING, NIGHT, BEDTIME = (time(8), time(14), time(18), time(21), time(22))
MON = date(2027, 1, 11)  # a Monday


def slots(freq: Frequency) -> list[tuple[str, time, Decimal]]:
    return [(d.slot, d.time, d.amount) for d in freq.doses]


# --- parsing: slot shorthand -----------------------------------------------------------------

SHORTHAND = [
    ("1-0-1", "1-0-1", "Morning and night", [("morning", MORNING, 1), ("night", NIGHT, 1)]),
    (
        "1-1-1",
        "1-1-1",
        "Morning, afternoon and night",
        [("morning", MORNING, 1), ("afternoon", AFTERNOON, 1), ("night", NIGHT, 1)],
    ),
    ("0-0-1", "0-0-1", "At night", [("night", NIGHT, 1)]),
    ("1-0-0", "1-0-0", "In the morning", [("morning", MORNING, 1)]),
    ("0-1-0", "0-1-0", "In the afternoon", [("afternoon", AFTERNOON, 1)]),
    (
        "1-1-0",
        "1-1-0",
        "Morning and afternoon",
        [("morning", MORNING, 1), ("afternoon", AFTERNOON, 1)],
    ),
    ("0-1-1", "0-1-1", "Afternoon and night", [("afternoon", AFTERNOON, 1), ("night", NIGHT, 1)]),
    (
        "1-1-1-1",
        "1-1-1-1",
        "Morning, afternoon, evening and night",
        [
            ("morning", MORNING, 1),
            ("afternoon", AFTERNOON, 1),
            ("evening", EVENING, 1),
            ("night", NIGHT, 1),
        ],
    ),
    ("0-0-0-1", "0-0-0-1", "At night", [("night", NIGHT, 1)]),
    ("0-0-1-0", "0-0-1-0", "In the evening", [("evening", EVENING, 1)]),
    (
        "1/2-0-1/2",
        "1/2-0-1/2",
        "½ in the morning and ½ at night",
        [("morning", MORNING, D("0.5")), ("night", NIGHT, D("0.5"))],
    ),
    (
        "½-0-½",
        "1/2-0-1/2",
        "½ in the morning and ½ at night",
        [("morning", MORNING, D("0.5")), ("night", NIGHT, D("0.5"))],
    ),
    (
        "2-0-2",
        "2-0-2",
        "2 in the morning and 2 at night",
        [("morning", MORNING, 2), ("night", NIGHT, 2)],
    ),
    (
        "1.5-0-1",
        "1.5-0-1",
        "1½ in the morning and 1 at night",
        [("morning", MORNING, D("1.5")), ("night", NIGHT, 1)],
    ),
    (
        "1½-0-¾",
        "1.5-0-3/4",
        "1½ in the morning and ¾ at night",
        [("morning", MORNING, D("1.5")), ("night", NIGHT, D("0.75"))],
    ),
    (
        "1/4-1/4-1/4",
        "1/4-1/4-1/4",
        "¼ in the morning, ¼ in the afternoon and ¼ at night",
        [
            ("morning", MORNING, D("0.25")),
            ("afternoon", AFTERNOON, D("0.25")),
            ("night", NIGHT, D("0.25")),
        ],
    ),
    (
        "3/2-0-1",
        "1.5-0-1",
        "1½ in the morning and 1 at night",
        [("morning", MORNING, D("1.5")), ("night", NIGHT, 1)],
    ),
]


@pytest.mark.parametrize(("text", "code", "label", "expected"), SHORTHAND)
def test_shorthand_parses_to_slots_times_and_amounts(text, code, label, expected):
    freq = parse_frequency(text)

    assert freq.code == code
    assert freq.label == label
    assert slots(freq) == [(slot, at, D(amount)) for slot, at, amount in expected]
    assert all(isinstance(d.amount, Decimal) for d in freq.doses)
    assert (freq.every_n_days, freq.days_in_period) == (1, (0,))
    assert not freq.as_needed
    assert not freq.once


@pytest.mark.parametrize(
    "text",
    [
        "1-0-1",
        " 1-0-1 ",
        "1 - 0 - 1",
        "1 -0- 1",
        "1\u20130\u20131",
        "1 \u2013 0 \u2013 1",
        "1\u20140\u20141",
        "1\u22120\u22121",
        "\t1-0-1\n",
    ],
)
def test_shorthand_tolerates_spaces_and_dashes(text):
    assert parse_frequency(text) == parse_frequency("1-0-1")


@pytest.mark.parametrize("text", ["1 / 2-0-1/2", "0.5-0-0.5", "½ - 0 - ½", "2/4-0-2/4"])
def test_half_written_any_way_is_the_same_frequency(text):
    assert parse_frequency(text) == parse_frequency("1/2-0-1/2")


# --- parsing: Latin and English --------------------------------------------------------------

NAMED = [
    ("OD", "OD", "Once a day (morning)", [("morning", MORNING)], 1),
    ("once daily", "OD", "Once a day (morning)", [("morning", MORNING)], 1),
    ("BD", "BD", "Twice a day (morning and night)", [("morning", MORNING), ("night", NIGHT)], 1),
    ("BID", "BD", "Twice a day (morning and night)", [("morning", MORNING), ("night", NIGHT)], 1),
    (
        "twice daily",
        "BD",
        "Twice a day (morning and night)",
        [("morning", MORNING), ("night", NIGHT)],
        1,
    ),
    (
        "TDS",
        "TDS",
        "Three times a day",
        [("morning", MORNING), ("afternoon", AFTERNOON), ("night", NIGHT)],
        1,
    ),
    (
        "TID",
        "TDS",
        "Three times a day",
        [("morning", MORNING), ("afternoon", AFTERNOON), ("night", NIGHT)],
        1,
    ),
    (
        "thrice daily",
        "TDS",
        "Three times a day",
        [("morning", MORNING), ("afternoon", AFTERNOON), ("night", NIGHT)],
        1,
    ),
    (
        "QID",
        "QID",
        "Four times a day",
        [("morning", MORNING), ("afternoon", AFTERNOON), ("evening", EVENING), ("night", NIGHT)],
        1,
    ),
    (
        "QDS",
        "QID",
        "Four times a day",
        [("morning", MORNING), ("afternoon", AFTERNOON), ("evening", EVENING), ("night", NIGHT)],
        1,
    ),
    (
        "four times a day",
        "QID",
        "Four times a day",
        [("morning", MORNING), ("afternoon", AFTERNOON), ("evening", EVENING), ("night", NIGHT)],
        1,
    ),
    ("HS", "HS", "At bedtime", [("bedtime", BEDTIME)], 1),
    ("QOD", "QOD", "Every other day (morning)", [("morning", MORNING)], 2),
    ("alternate days", "QOD", "Every other day (morning)", [("morning", MORNING)], 2),
    ("once a week", "WEEKLY", "Once a week", [("morning", MORNING)], 7),
    ("weekly", "WEEKLY", "Once a week", [("morning", MORNING)], 7),
    ("OW", "WEEKLY", "Once a week", [("morning", MORNING)], 7),
    ("twice a week", "TWICE WEEKLY", "Twice a week", [("morning", MORNING)], 7),
    (
        "every 6 hours",
        "Q6H",
        "Every 6 hours",
        [("00:00", time(0)), ("06:00", time(6)), ("12:00", time(12)), ("18:00", time(18))],
        1,
    ),
    (
        "Q6H",
        "Q6H",
        "Every 6 hours",
        [("00:00", time(0)), ("06:00", time(6)), ("12:00", time(12)), ("18:00", time(18))],
        1,
    ),
    (
        "Q8H",
        "Q8H",
        "Every 8 hours",
        [("06:00", time(6)), ("14:00", time(14)), ("22:00", time(22))],
        1,
    ),
    ("Q12H", "Q12H", "Every 12 hours", [("08:00", time(8)), ("20:00", time(20))], 1),
]


@pytest.mark.parametrize(("text", "code", "label", "expected", "every_n_days"), NAMED)
def test_latin_and_english_forms_parse(text, code, label, expected, every_n_days):
    freq = parse_frequency(text)

    assert freq.code == code
    assert freq.label == label
    # Latin forms carry no amount of their own: the dose amount (default 1) multiplies it.
    assert slots(freq) == [(slot, at, D(1)) for slot, at in expected]
    assert freq.every_n_days == every_n_days
    assert not freq.as_needed
    assert not freq.once


def test_twice_a_week_doses_on_two_days_of_each_week():
    freq = parse_frequency("twice a week")

    assert (freq.every_n_days, freq.days_in_period) == (7, (0, 3))
    assert freq.doses_per_period == 2


@pytest.mark.parametrize("text", ["SOS", "PRN", "sos", "as needed"])
def test_sos_is_as_needed_with_no_fixed_times(text):
    freq = parse_frequency(text)

    assert (freq.code, freq.label) == ("SOS", "When needed")
    assert freq.as_needed
    assert not freq.once
    assert freq.doses == ()


def test_stat_is_a_single_dose_now():
    freq = parse_frequency("STAT")

    assert (freq.code, freq.label) == ("STAT", "Once, straight away")
    assert freq.once
    assert not freq.as_needed
    assert freq.doses == ()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("bd", "BD"),
        ("Bd", "BD"),
        (" b.d. ", "BD"),
        ("B.I.D.", "BD"),
        ("t.d.s", "TDS"),
        ("Tds", "TDS"),
        ("q i d", "QID"),
        ("hs", "HS"),
        ("Stat", "STAT"),
        ("Once  A   Week", "WEEKLY"),
        ("TWICE  DAILY", "BD"),
        ("Alternate Days", "QOD"),
        ("q 8 h", "Q8H"),
        ("q8h", "Q8H"),
        ("every 8 hrs", "Q8H"),
        ("8 hourly", "Q8H"),
        ("6th hourly", "Q6H"),
        ("Every 12 Hours", "Q12H"),
        ("Q4H", "Q4H"),
    ],
)
def test_case_and_spacing_do_not_matter(text, code):
    assert parse_frequency(text).code == code


ALL_FORMS = [row[0] for row in SHORTHAND] + [row[0] for row in NAMED] + ["SOS", "PRN", "STAT"]


@pytest.mark.parametrize("text", ALL_FORMS)
def test_code_parses_back_to_the_same_frequency(text):
    freq = parse_frequency(text)

    assert parse_frequency(freq.code) == freq
    assert str(freq) == freq.code


def test_bd_and_1_0_1_dose_at_the_same_times():
    assert slots(parse_frequency("BD")) == slots(parse_frequency("1-0-1"))


# --- parsing: bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "1-0",
        "1-0-1-1-1",
        "0-0-0",
        "0-0-0-0",
        "-1-0-1",
        "1-0-1-",
        "1--1",
        "2x daily",
        "1-O-1",
        "1/0-0-1",
        "0/2-0-1",
        "1/3-0-1",
        "1 0 1",
        "1,0,1",
        "1-0-1 after food",
        "1.2.3-0-1",
        "daily",
        "QD",
        "q5h",
        "every 24 hours",
        "1-a-1",
    ],
)
def test_bad_input_names_the_input_and_lists_accepted_forms(text):
    with pytest.raises(FrequencyError) as caught:
        parse_frequency(text)

    message = str(caught.value)
    assert repr(text) in message
    assert "1-0-1" in message
    assert "SOS" in message
    assert "once a week" in message


def test_frequency_error_is_a_value_error():
    with pytest.raises(ValueError, match="Unknown frequency 'xyz'"):
        parse_frequency("xyz")


def test_letter_o_gets_a_hint_to_use_zero():
    with pytest.raises(FrequencyError, match=r"did you mean 1-0-1\?"):
        parse_frequency("1-O-1")


def test_wrong_number_of_positions_is_explained():
    with pytest.raises(FrequencyError, match="has 2 positions"):
        parse_frequency("1-0")


def test_non_text_is_rejected():
    with pytest.raises(FrequencyError):
        parse_frequency(None)  # type: ignore[arg-type]


# --- schedule --------------------------------------------------------------------------------


def when(schedule: list[ScheduledDose]) -> list[tuple[date, time, Decimal]]:
    return [(s.date, s.time, s.amount) for s in schedule]


def test_schedule_1_0_1_over_a_week():
    schedule = schedule_for(parse_frequency("1-0-1"), start=MON, duration_days=7)

    assert len(schedule) == 14
    assert when(schedule[:3]) == [
        (MON, MORNING, D(1)),
        (MON, NIGHT, D(1)),
        (date(2027, 1, 12), MORNING, D(1)),
    ]
    assert schedule[-1].date == date(2027, 1, 17)
    assert schedule[-1].slot == "night"
    assert schedule[0].at.isoformat() == "2027-01-11T08:00:00"


def test_schedule_uses_the_frequency_amounts():
    schedule = schedule_for(parse_frequency("1/2-0-1/2"), start=MON, duration_days=1)

    assert when(schedule) == [(MON, MORNING, D("0.5")), (MON, NIGHT, D("0.5"))]


def test_schedule_multiplies_latin_forms_by_the_dose_amount():
    schedule = schedule_for(parse_frequency("TDS"), dose_amount=D(2), start=MON, duration_days=1)

    assert [s.amount for s in schedule] == [D(2), D(2), D(2)]


def test_schedule_alternate_days_over_a_week():
    schedule = schedule_for(parse_frequency("alternate days"), start=MON, duration_days=7)

    assert [s.date.day for s in schedule] == [11, 13, 15, 17]
    assert {s.time for s in schedule} == {MORNING}


def test_schedule_weekly():
    freq = parse_frequency("once a week")

    assert when(schedule_for(freq, start=MON, duration_days=7)) == [(MON, MORNING, D(1))]
    four_weeks = schedule_for(freq, start=MON, duration_days=28)
    assert [s.date for s in four_weeks] == [
        date(2027, 1, 11),
        date(2027, 1, 18),
        date(2027, 1, 25),
        date(2027, 2, 1),
    ]


def test_schedule_twice_a_week_on_start_day_and_three_days_later():
    freq = parse_frequency("twice a week")

    one_week = schedule_for(freq, start=MON, duration_days=7)
    assert [s.date.strftime("%a %d") for s in one_week] == ["Mon 11", "Thu 14"]
    two_weeks = schedule_for(freq, start=MON, duration_days=14)
    assert [s.date.strftime("%a") for s in two_weeks] == ["Mon", "Thu", "Mon", "Thu"]


def test_schedule_q8h_at_fixed_clock_times():
    schedule = schedule_for(parse_frequency("Q8H"), start=MON, duration_days=7)

    assert len(schedule) == 21
    assert [(s.slot, s.time) for s in schedule[:3]] == [
        ("06:00", time(6)),
        ("14:00", time(14)),
        ("22:00", time(22)),
    ]
    assert schedule[-1].at.isoformat() == "2027-01-17T22:00:00"


def test_schedule_with_clinic_times():
    times = {"morning": time(9, 30), "night": time(20, 0), "bedtime": time(23, 0)}

    bd = schedule_for(parse_frequency("1-0-1"), start=MON, duration_days=7, times=times)
    hs = schedule_for(parse_frequency("HS"), start=MON, duration_days=2, times=times)

    assert {(s.slot, s.time) for s in bd} == {("morning", time(9, 30)), ("night", time(20))}
    assert len(bd) == 14
    assert [s.time for s in hs] == [time(23), time(23)]


def test_overridden_times_keep_the_day_in_time_order():
    times = {"morning": time(23, 0)}

    schedule = schedule_for(parse_frequency("1-0-1"), start=MON, duration_days=1, times=times)

    assert [s.slot for s in schedule] == ["night", "morning"]


def test_unknown_slot_in_times_is_rejected():
    with pytest.raises(ValueError, match="Unknown slot 'Morning'"):
        schedule_for(parse_frequency("BD"), start=MON, duration_days=3, times={"Morning": time(9)})


@pytest.mark.parametrize("text", ["SOS", "PRN", "STAT"])
def test_nothing_to_remind_for_sos_and_stat(text):
    assert schedule_for(parse_frequency(text), start=MON, duration_days=5) == []


def test_nothing_to_remind_without_a_duration():
    assert schedule_for(parse_frequency("1-0-1"), start=MON, duration_days=None) == []


@pytest.mark.parametrize("days", [0, -3])
def test_duration_must_be_positive(days):
    with pytest.raises(ValueError, match="at least 1"):
        schedule_for(parse_frequency("BD"), start=MON, duration_days=days)


def test_float_dose_amount_is_refused():
    with pytest.raises(TypeError, match="never a float"):
        schedule_for(parse_frequency("BD"), dose_amount=1.5, start=MON, duration_days=2)  # type: ignore[arg-type]


def test_dose_amount_with_amounts_in_the_code_is_ambiguous():
    # "2-0-2" with a dose of 2 could mean 2 or 4 tablets a time: ask the doctor.
    with pytest.raises(FrequencyError, match="already gives the amount"):
        quantity_to_dispense(
            parse_frequency("2-0-2"), dose_amount=D(2), duration_days=5, form="tablet"
        )


# --- quantity to dispense --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "dose", "days", "form", "expected"),
    [
        ("1-0-1", 1, 5, "tablet", 10),
        ("1/2-0-1/2", 1, 5, "tablet", 5),
        ("1/2-0-0", 1, 5, "tablet", 3),
        ("1-1-1", 1, 3, "tablet", 9),
        ("2-0-2", 1, 7, "tablet", 28),
        ("TDS", 2, 5, "tablet", 30),
        ("BD", D("0.5"), 3, "tab", 3),
        ("once a week", 1, 28, "tablet", 4),
        ("once a week", 1, 10, "capsule", 2),
        ("twice a week", 1, 28, "capsule", 8),
        ("alternate days", 1, 7, "Tablets", 4),
        ("Q8H", 1, 5, "capsule", 15),
        ("HS", 1, 30, "Tab.", 30),
        ("OD", 1, 10, "sachet", 10),
        ("0-0-1", 1, 3, "suppository", 3),
        ("1-0-1", 1, 5, "injection", 10),
        ("1/2-0-1/2", 1, 5, "ampoule", 10),
        ("OD", 1, 5, "vial", 5),
        ("STAT", 1, None, "tablet", 1),
        ("STAT", 1, 5, "injection", 1),
        ("STAT", 2, None, "tablet", 2),
    ],
)
def test_quantity_to_dispense(text, dose, days, form, expected):
    quantity = quantity_to_dispense(
        parse_frequency(text), dose_amount=D(dose), duration_days=days, form=form
    )

    assert quantity == D(expected)
    assert isinstance(quantity, Decimal)


@pytest.mark.parametrize(
    ("text", "days", "form"),
    [
        ("1-0-1", 5, "syrup"),
        ("TDS", 5, "suspension"),
        ("QID", 5, "drops"),
        ("BD", 5, "ointment"),
        ("BD", 5, "cream"),
        ("BD", 5, "gel"),
        ("BD", 5, "inhaler"),
        ("SOS", 5, "tablet"),
        ("PRN", None, "tablet"),
        ("1-0-1", None, "tablet"),
        ("STAT", None, "syrup"),
    ],
)
def test_quantity_cannot_be_counted(text, days, form):
    quantity = quantity_to_dispense(
        parse_frequency(text), dose_amount=D(1), duration_days=days, form=form
    )

    assert quantity is None


def test_units_per_period():
    assert parse_frequency("1/2-0-1/2").units_per_period() == D(1)
    assert parse_frequency("TDS").units_per_period(D(2)) == D(6)
    assert parse_frequency("twice a week").units_per_period() == D(2)
    assert parse_frequency("QID").doses_per_period == 4


# --- JSON ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ALL_FORMS)
def test_json_round_trip(text):
    freq = parse_frequency(text)

    stored = json.loads(json.dumps(to_json(freq)))

    assert from_json(stored) == freq


def test_json_uses_plain_types():
    data = to_json(parse_frequency("1/2-0-1/2"))

    assert data["code"] == "1/2-0-1/2"
    assert data["doses"] == [
        {"slot": "morning", "time": "08:00", "amount": "0.5"},
        {"slot": "night", "time": "21:00", "amount": "0.5"},
    ]
    assert (data["every_n_days"], data["days_in_period"]) == (1, [0])
    assert (data["as_needed"], data["once"]) == (False, False)
    assert to_json(parse_frequency("2-0-2"))["doses"][0]["amount"] == "2"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("doses"),
        lambda d: d.update(version=99),
        lambda d: d["doses"][0].update(time="8am"),
        lambda d: d["doses"][0].update(amount=0.5),
        lambda d: d["doses"][0].update(amount="0"),
        lambda d: d["doses"][0].update(amount="lots"),
        lambda d: d.update(every_n_days=0),
        lambda d: d.update(days_in_period=[3]),
        lambda d: d.update(as_needed="no"),
        lambda d: d.update(as_needed=True),
        lambda d: d.update(code=""),
    ],
)
def test_malformed_json_is_refused(mutate):
    data = to_json(parse_frequency("1/2-0-1/2"))
    mutate(data)

    with pytest.raises(FrequencyError):
        from_json(data)


def test_frequency_is_frozen_and_hashable():
    freq = parse_frequency("BD")

    with pytest.raises(AttributeError):
        freq.code = "TDS"  # type: ignore[misc]
    assert len({freq, parse_frequency("bid"), parse_frequency("1-0-1")}) == 2


def test_dose_refuses_float_and_zero_amounts():
    with pytest.raises(FrequencyError):
        Dose("morning", MORNING, 0.5)  # type: ignore[arg-type]
    with pytest.raises(FrequencyError):
        Dose("morning", MORNING, D(0))
