from django.urls import reverse, set_script_prefix

from clinics.templatetags.vaidya import clinic_reverse


def test_clinic_reverse_matches_reverse_for_ids_and_other_arguments():
    cases = [
        ("dashboard", ()),
        ("patient-detail", (7,)),
        ("patient-detail", (123456,)),
        ("guardian-remove", (12, 34)),
        ("appointment-check-in", (5,)),
    ]
    for name, args in cases:
        assert clinic_reverse(name, "asha", *args) == reverse(name, args=["asha", *args])
    # Ids that look like each other are not confused.
    assert clinic_reverse("guardian-remove", "asha", 1, 11).endswith(
        "/patients/1/guardians/11/remove/"
    )
    # Not an int: the ordinary reverse, whatever it says.
    assert clinic_reverse("patient-detail", "asha", "9") == reverse(
        "patient-detail", args=["asha", "9"]
    )


def test_clinic_reverse_follows_the_script_prefix():
    try:
        set_script_prefix("/vaidya/")
        assert clinic_reverse("patient-detail", "asha", 3) == "/vaidya/c/asha/patients/3/"
    finally:
        set_script_prefix("/")
    assert clinic_reverse("patient-detail", "asha", 3) == "/c/asha/patients/3/"
