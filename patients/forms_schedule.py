"""Forms for the scheduling pages. They only parse input; the services decide what is allowed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import timezone

from clinics.dates import is_usable_day, validate_usable_day
from clinics.models import Membership
from patients.models import LeaveKind, Patient
from patients.selectors import patient_list
from patients.selectors.schedule_views import doctor_choices
from patients.services.appointments import SessionInput
from patients.slots import MAX_SLOT_MINUTES, MIN_SLOT_MINUTES

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"]
MAX_PATIENT_MATCHES = 8
PATIENTS_TARGET = "patient-matches"
SLOTS_TARGET = "slots"


def parse_day(value: str | None, default: date | None) -> date | None:
    """A `?date=YYYY-MM-DD` query value, or `default` when it is missing, not a date, or
    outside the calendar a clinic can use (`clinics.dates`)."""
    try:
        day = date.fromisoformat((value or "").strip())
    except ValueError:
        return default
    return day if is_usable_day(day) else default


def parse_slot_start(value: str | None) -> datetime | None:
    """A slot's start as the slot picker sends it (ISO 8601 with its UTC offset)."""
    try:
        parsed = datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return parsed if timezone.is_aware(parsed) else None


def _date_field(label: str, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label,
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Give the date as day/month/year, for example 12/01/2027."},
        validators=[validate_usable_day],
        **kwargs,
    )


class DoctorField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return f"Dr {obj.user.full_name}"


def _doctor_field() -> DoctorField:
    return DoctorField(
        label="Doctor",
        queryset=Membership.objects.none(),
        empty_label="Choose a doctor",
        error_messages={
            "required": "Choose a doctor.",
            "invalid_choice": "Choose a doctor who works at this clinic.",
        },
    )


class PatientPickForm(forms.Form):
    """Find a patient by number, name or phone; pick one when several match.

    `patient_id` comes from the radio buttons of the matches list (or a link that names the
    patient); without it, a search that finds exactly one patient is taken as the choice.
    """

    patient = forms.CharField(
        label="Patient",
        max_length=200,
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "placeholder": "Patient number (P-000123), name or phone",
            }
        ),
    )
    patient_id = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "doctor" in self.fields:
            self.fields["doctor"].queryset = doctor_choices()
        self.chosen_patient: Patient | None = None
        self.patient_matches: list[Patient] = []

    def clean(self):
        cleaned = super().clean()
        patient_id = cleaned.get("patient_id")
        query = (cleaned.get("patient") or "").strip()
        if patient_id:
            self.chosen_patient = patient_list(include_archived=True).filter(pk=patient_id).first()
            if self.chosen_patient is None:
                self.add_error("patient", "That patient is not registered at this clinic.")
        elif query:
            matches = list(patient_list(query=query)[: MAX_PATIENT_MATCHES + 1])
            if len(matches) == 1:
                self.chosen_patient = matches[0]
            elif not matches:
                self.add_error(
                    "patient",
                    f"No patient matches “{query}”. Check the number or the spelling, or "
                    "register the patient first.",
                )
            else:
                self.patient_matches = matches[:MAX_PATIENT_MATCHES]
                self.add_error("patient", "Several patients match. Pick the right one below.")
        else:
            self.add_error("patient", "Find the patient by their number, name or phone.")
        return cleaned


def _override_reason_field() -> forms.CharField:
    return forms.CharField(
        label="Reason for going outside the doctor's hours",
        max_length=200,
        required=False,
        help_text="Only the owner or the doctor. Kept on the appointment and in the audit trail.",
        widget=forms.TextInput(attrs={"placeholder": "For example: post-operative review"}),
    )


class BookingForm(PatientPickForm):
    doctor = _doctor_field()
    date = _date_field("Date")
    starts_at = forms.CharField(
        required=False,
        widget=forms.HiddenInput,
        error_messages={"required": "Pick one of the free times."},
    )
    reason = forms.CharField(
        label="Reason for visit",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "For example: fever for 3 days"}),
    )

    override_time = forms.TimeField(
        label="Time outside the free slots",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": "Give the time as hours:minutes, for example 18:30."},
    )
    override_reason = _override_reason_field()

    field_order = ["patient", "patient_id", "doctor", "date", "starts_at", "reason"]

    def __init__(self, *args, tz=None, slots_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = tz or timezone.get_current_timezone()
        if slots_url:
            reload_slots = {
                "hx-get": slots_url,
                "hx-trigger": "change",
                "hx-target": f"#{SLOTS_TARGET}",
                "hx-swap": "outerHTML",
                "hx-include": "[name=doctor],[name=date]",
            }
            self.fields["doctor"].widget.attrs.update(reload_slots)
            self.fields["date"].widget.attrs.update(reload_slots)

    def clean_starts_at(self) -> datetime | None:
        raw = self.cleaned_data["starts_at"]
        if not raw:
            return None  # unless a time outside the free slots is given (clean)
        value = parse_slot_start(raw)
        if value is None:
            raise forms.ValidationError("Pick one of the free times.")
        return value

    def clean(self):
        cleaned = super().clean()
        starts_at, day = cleaned.get("starts_at"), cleaned.get("date")
        override_time = cleaned.get("override_time")
        if override_time is not None:
            if not (cleaned.get("override_reason") or "").strip():
                self.add_error(
                    "override_reason", "Say why the appointment is outside the doctor's hours."
                )
            if day is not None:
                cleaned["starts_at"] = datetime.combine(day, override_time, tzinfo=self.tz)
            return cleaned
        if "starts_at" in cleaned and starts_at is None:
            self.add_error("starts_at", "Pick one of the free times.")
        elif starts_at and day and starts_at.astimezone(self.tz).date() != day:
            self.add_error("starts_at", "Pick one of the free times of the date you chose.")
        return cleaned


class WalkInForm(PatientPickForm):
    doctor = _doctor_field()
    reason = forms.CharField(
        label="Reason for visit",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "For example: fever for 3 days"}),
    )
    override_reason = _override_reason_field()

    field_order = ["patient", "patient_id", "doctor", "reason", "override_reason"]


class CheckInOverrideForm(forms.Form):
    override_reason = _override_reason_field()


class DisplayLinkForm(forms.Form):
    name = forms.CharField(
        label="Which screen",
        max_length=60,
        widget=forms.TextInput(attrs={"placeholder": "For example: Waiting room TV"}),
        error_messages={"required": "Name the screen, for example Waiting room TV."},
    )


class RoomForm(forms.Form):
    room = forms.CharField(
        label="Room",
        max_length=40,
        required=False,
        help_text="Shown on the waiting-room screen and the token slip. Leave empty for none.",
        widget=forms.TextInput(attrs={"placeholder": "For example: Room 2"}),
    )


def _patient_note_field() -> forms.CharField:
    return forms.CharField(
        label="Tell the patient why (optional)",
        max_length=200,
        required=False,
        help_text="Sent to the patient on WhatsApp with the change, when they agreed to messages.",
        widget=forms.TextInput(attrs={"placeholder": "For example: the doctor is at a conference"}),
    )


class RescheduleForm(forms.Form):
    date = _date_field("New date")
    starts_at = forms.CharField(required=False, widget=forms.HiddenInput)
    patient_note = _patient_note_field()

    def __init__(self, *args, slots_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if slots_url:
            self.fields["date"].widget.attrs.update(
                {
                    "hx-get": slots_url,
                    "hx-trigger": "change",
                    "hx-target": f"#{SLOTS_TARGET}",
                    "hx-swap": "outerHTML",
                    "hx-include": "[name=doctor],[name=date]",
                }
            )

    def clean_starts_at(self) -> datetime:
        value = parse_slot_start(self.cleaned_data["starts_at"])
        if value is None:
            raise forms.ValidationError("Pick one of the free times.")
        return value


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why is it cancelled?",
        max_length=200,
        widget=forms.TextInput(
            attrs={"placeholder": "For example: patient called, feeling better"}
        ),
        error_messages={"required": "Say why the appointment is cancelled."},
    )
    patient_note = _patient_note_field()


# --- Working hours ------------------------------------------------------------------------


class SessionRowForm(forms.Form):
    """One session of a weekday. A row with neither time is simply not used."""

    start = forms.TimeField(
        label="From",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": "Give a time like 10:00."},
    )
    end = forms.TimeField(
        label="To",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": "Give a time like 13:00."},
    )
    slot_minutes = forms.IntegerField(
        label="Minutes per patient",
        required=False,
        min_value=MIN_SLOT_MINUTES,
        max_value=MAX_SLOT_MINUTES,
        widget=forms.NumberInput(
            attrs={"inputmode": "numeric", "min": MIN_SLOT_MINUTES, "max": MAX_SLOT_MINUTES}
        ),
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if (start is None) != (end is None) and not self.errors:
            raise forms.ValidationError("Give both times, or clear both to remove this session.")
        return cleaned

    def session(self, weekday: int) -> SessionInput | None:
        start, end = self.cleaned_data.get("start"), self.cleaned_data.get("end")
        if start is None or end is None:
            return None
        return SessionInput(
            weekday=weekday,
            start=start,
            end=end,
            slot_minutes=self.cleaned_data.get("slot_minutes") or 15,
        )


SessionRowFormSet = forms.formset_factory(SessionRowForm, extra=1, max_num=12, absolute_max=12)


# --- Leave --------------------------------------------------------------------------------


class LeaveForm(forms.Form):
    """Leave for whole days (first and last day), or blocked time on one day (from and to)."""

    kind = forms.ChoiceField(
        label="What is it?",
        choices=LeaveKind.choices,
        initial=LeaveKind.LEAVE,
        widget=forms.RadioSelect,
    )
    first_day = _date_field("First day")
    last_day = _date_field(
        "Last day", required=False, help_text="For several days. Leave empty for one day."
    )
    from_time = forms.TimeField(
        label="From",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="Only for part of a day.",
    )
    to_time = forms.TimeField(
        label="To", required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    reason = forms.CharField(label="Note", max_length=200, required=False)

    def clean(self):
        cleaned = super().clean()
        from_time, to_time = cleaned.get("from_time"), cleaned.get("to_time")
        if (from_time is None) != (to_time is None):
            self.add_error("to_time", "Give both times for part of a day, or neither.")
        elif from_time is not None:
            first, last = cleaned.get("first_day"), cleaned.get("last_day")
            if last and first and last != first:
                self.add_error(
                    "last_day", "Part of a day is on one day only: leave the last day empty."
                )
        return cleaned

    def period(self, tz) -> tuple[datetime, datetime]:
        """The leave as [starts_at, ends_at) in the clinic's time zone."""
        first = self.cleaned_data["first_day"]
        from_time, to_time = self.cleaned_data.get("from_time"), self.cleaned_data.get("to_time")
        if from_time is not None and to_time is not None:
            return (
                datetime.combine(first, from_time, tzinfo=tz),
                datetime.combine(first, to_time, tzinfo=tz),
            )
        last = self.cleaned_data.get("last_day") or first
        return (
            datetime.combine(first, time.min, tzinfo=tz),
            datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz),
        )
