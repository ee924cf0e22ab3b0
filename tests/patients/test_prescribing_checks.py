"""The prescribing checks as pure functions: allergies by generic name and by drug class,
duplicate therapy, the maximum daily dose, reading free-text allergies, and the shipped
formulary itself."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from patients.dosing import parse_frequency, to_json
from patients.models import DrugForm, Route
from patients.prescribing.allergy_text import ReadAllergy, read_allergies
from patients.prescribing.checks import (
    AllergyFact,
    MedicineFact,
    atc_codes_for,
    check_item,
    daily_dose_mg,
)
from patients.prescribing.classes import BY_KEY, classes_of, finding_label
from patients.prescribing.formulary import (
    FORMULARY_PATH,
    brand_key,
    generic_atc_codes,
    parse_formulary,
    shipped_formulary,
)

D = Decimal


def medicine(name, *, dose=None, most=None, atc=""):
    return MedicineFact(name, atc_codes_for(name, atc), dose, most)


def check(candidate, allergies=(), current=()):
    return check_item(allergies=list(allergies), current=list(current), candidate=candidate)


def keys(findings):
    return [f.key for f in findings]


# --- allergies --------------------------------------------------------------------------------


def test_an_nsaid_allergy_stops_ibuprofen_by_class():
    findings = check(medicine("IBUPROFEN"), [AllergyFact(drug_class="nsaids", severity="Severe")])
    assert keys(findings) == ["allergy:nsaids"]
    assert findings[0].stops
    assert "allergic to NSAIDs (incl. aspirin) (Severe). IBUPROFEN is one of them." in (
        findings[0].message
    )


def test_paracetamol_is_not_an_nsaid():
    assert check(medicine("PARACETAMOL"), [AllergyFact(drug_class="nsaids")]) == []
    assert check(medicine("PARACETAMOL"), [AllergyFact(substance="Ibuprofen")]) == []


@pytest.mark.parametrize(
    ("drug", "allergy_class"),
    [
        ("AMOXICILLIN", "penicillins"),
        ("AMOXICILLIN + CLAVULANIC ACID", "penicillins"),
        ("CEFIXIME", "cephalosporins"),
        ("CEPHALEXIN", "cephalosporins"),
        ("SULFAMETHOXAZOLE + TRIMETHOPRIM", "sulfonamides"),
        ("AZITHROMYCIN", "macrolides"),
        ("LEVOFLOXACIN", "fluoroquinolones"),
        ("OFLOXACIN + ORNIDAZOLE", "fluoroquinolones"),
        ("TRAMADOL", "opioids"),
        ("TRAMADOL + PARACETAMOL", "opioids"),
        ("DICLOFENAC", "nsaids"),
        ("ASPIRIN", "nsaids"),
        ("IBUPROFEN + PARACETAMOL", "nsaids"),
    ],
)
def test_each_named_class_is_matched_by_its_atc_codes(drug, allergy_class):
    assert keys(check(medicine(drug), [AllergyFact(drug_class=allergy_class)])) == [
        f"allergy:{allergy_class}"
    ]


@pytest.mark.parametrize(
    ("drug", "allergy_class"),
    [
        ("CEFIXIME", "penicillins"),
        ("AZITHROMYCIN", "penicillins"),
        ("PARACETAMOL", "opioids"),
        ("METFORMIN", "sulfonamides"),
        ("CETIRIZINE", "nsaids"),
    ],
)
def test_a_class_allergy_leaves_other_classes_alone(drug, allergy_class):
    assert check(medicine(drug), [AllergyFact(drug_class=allergy_class)]) == []


def test_a_substance_allergy_matches_the_generic_name_and_combinations_containing_it():
    allergy = AllergyFact(substance="Ibuprofen", reaction="Rash")
    assert keys(check(medicine("IBUPROFEN"), [allergy])) == ["allergy:IBUPROFEN"]
    combined = check(medicine("IBUPROFEN + PARACETAMOL"), [allergy])
    assert keys(combined) == ["allergy:IBUPROFEN"]
    assert "IBUPROFEN + PARACETAMOL contains IBUPROFEN" in combined[0].message
    assert "(Rash)" in combined[0].message


def test_a_drug_allergy_also_stops_another_drug_of_its_allergy_class():
    findings = check(medicine("DICLOFENAC"), [AllergyFact(substance="IBUPROFEN")])
    assert keys(findings) == ["allergy:nsaids"]
    assert "DICLOFENAC is in the same class" in findings[0].message


def test_a_typed_in_medicine_is_classed_by_its_generic_name_without_a_listed_drug():
    # No ATC code given: the formulary's generic names supply it.
    assert atc_codes_for("AMOXICILLIN") == {"J01CA04"}
    assert keys(
        check(
            MedicineFact("AMOXICILLIN", atc_codes_for("AMOXICILLIN")),
            [AllergyFact(drug_class="penicillins")],
        )
    ) == ["allergy:penicillins"]


def test_non_drug_allergies_do_not_match_medicines():
    allergies = [AllergyFact(substance="Peanuts"), AllergyFact(substance="Latex")]
    assert check(medicine("AMOXICILLIN"), allergies) == []


# --- duplicates and doses ---------------------------------------------------------------------


def test_two_drugs_of_one_class_are_duplicate_therapy():
    findings = check(medicine("DICLOFENAC"), current=[medicine("IBUPROFEN")])
    assert keys(findings) == ["duplicate_class:nsaids"]
    assert "DICLOFENAC and IBUPROFEN are both NSAIDs" in findings[0].message
    assert keys(check(medicine("RABEPRAZOLE"), current=[medicine("PANTOPRAZOLE")])) == [
        "duplicate_class:ppis"
    ]


def test_the_same_ingredient_twice_is_a_duplicate_even_inside_a_combination():
    findings = check(medicine("IBUPROFEN + PARACETAMOL"), current=[medicine("PARACETAMOL")])
    assert keys(findings) == ["duplicate_ingredient:PARACETAMOL"]


def test_unrelated_medicines_together_pass():
    current = [medicine("PARACETAMOL"), medicine("CETIRIZINE"), medicine("PANTOPRAZOLE")]
    assert check(medicine("AMOXICILLIN"), current=current) == []


def test_a_daily_dose_above_the_maximum_stops():
    dose = daily_dose_mg(
        strength="650 mg", dose_unit="", dose_amount=D(2), schedule=to_json(parse_frequency("QID"))
    )
    assert dose == D(5200)
    findings = check(medicine("PARACETAMOL", dose=dose, most=D(4000)))
    assert keys(findings) == ["over_max_dose"]
    assert findings[0].message == (
        "Dose above the maximum: 5200 mg a day of PARACETAMOL; the most is 4000 mg a day."
    )
    assert check(medicine("PARACETAMOL", dose=D(4000), most=D(4000))) == []


@pytest.mark.parametrize(
    ("strength", "unit", "amount", "frequency", "expected"),
    [
        ("500 mg", "", "1", "1-1-1", D(1500)),
        ("500 mg", "tablet", "0.5", "BD", D(500)),
        ("1 g", "", "1", "TDS", D(3000)),
        ("50 mcg", "", "1", "OD", D("0.05")),
        ("250 mg/5 ml", "ml", "10", "TDS", D(1500)),
        ("250 mg/5 ml", "", "10", "TDS", None),  # not in ml: unknown
        ("400 mg + 325 mg", "", "1", "TDS", None),  # a combination: unknown
        ("500 mg", "", "1", "SOS", None),  # as needed: no daily dose
        ("500 mg", "", "2", "STAT", D(1000)),
        ("1/2-0-1/2", "", "1", "1/2-0-1/2", None),
    ],
)
def test_daily_dose_in_mg(strength, unit, amount, frequency, expected):
    schedule = to_json(parse_frequency(frequency)) if frequency != "1/2-0-1/2" else {}
    assert (
        daily_dose_mg(strength=strength, dose_unit=unit, dose_amount=D(amount), schedule=schedule)
        == expected
    )


# --- free text --------------------------------------------------------------------------------


NAMES = {"IBUPROFEN", "ASPIRIN", "AMOXICILLIN", "PARACETAMOL", "TETRACYCLINE"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ibuprofen and other NSAIDs", [("IBUPROFEN", ""), ("", "nsaids")]),
        ("Penicillin", [("", "penicillins")]),
        ("Sulfa drugs", [("", "sulfonamides")]),
        ("Aspirin", [("ASPIRIN", "")]),
        ("Peanuts, dust mites", [("Peanuts", ""), ("dust mites", "")]),
        ("allergic to amoxicillin; shellfish", [("AMOXICILLIN", ""), ("shellfish", "")]),
        ("", []),
    ],
)
def test_free_text_allergies_are_read_into_entries(text, expected):
    assert read_allergies(text, NAMES) == [ReadAllergy(s, c) for s, c in expected]


# --- the shipped formulary ---------------------------------------------------------------------


def test_the_shipped_formulary_is_a_few_hundred_valid_rows():
    rows, errors = parse_formulary(
        FORMULARY_PATH.read_text(encoding="utf-8"),
        forms=set(DrugForm.values),
        routes=set(Route.values),
    )
    assert errors == []
    assert len(rows) >= 300
    assert all(row.atc_code for row in rows)
    assert sum(len(row.brand_names) for row in rows) >= 500
    dolo = next(r for r in rows if "Dolo 650" in r.brand_names)
    assert (dolo.generic_name, dolo.strength, dolo.max_daily_dose_mg) == (
        "PARACETAMOL",
        "650 mg",
        D(4000),
    )


def test_the_formulary_puts_the_well_known_drugs_in_the_right_classes():
    codes = generic_atc_codes()
    assert classes_of(codes["PARACETAMOL"]) == set()
    assert "nsaids" in classes_of(codes["IBUPROFEN"])
    assert "nsaids" in classes_of(codes["ASPIRIN"])
    assert "penicillins" in classes_of(codes["AMOXICILLIN"])
    assert "macrolides" in classes_of(codes["AZITHROMYCIN"])
    assert "opioids" in classes_of(codes["TRAMADOL"])
    generic_rows = [r for r in shipped_formulary() if re.fullmatch(r"[A-Z ]+", r.generic_name)]
    assert all(r.generic_name == r.generic_name.upper() for r in generic_rows)


def test_a_bad_formulary_file_reports_every_bad_line():
    text = (
        "generic_name,strength,form,route,atc_code,max_daily_dose_mg,brand_names\n"
        "paracetamol,500 mg,tablet,oral,N02BE01,4000,Crocin\n"
        ",500 mg,tablet,oral,,,\n"
        "IBUPROFEN,400 mg,pill,oral,M01AE01,lots,Brufen\n"
        "PARACETAMOL,500 mg,tablet,oral,,,\n"
        "CETIRIZINE,10 mg,tablet,oral,R06AE7X,,\n"
    )
    rows, errors = parse_formulary(text, forms=set(DrugForm.values), routes=set(Route.values))
    assert [r.generic_name for r in rows] == ["PARACETAMOL"]
    assert errors[0].startswith("Line 3: generic_name is required")
    assert errors[1].startswith("Line 4: form must be one of") and "max_daily_dose_mg" in errors[1]
    assert errors[2] == "Line 5: the same drug as line 2."
    assert errors[3].startswith("Line 6: atc_code must be a WHO ATC code")


def test_a_formulary_file_with_an_unknown_column_is_refused_whole():
    rows, errors = parse_formulary(
        "generic_name,form,route,brands\nX,tablet,oral,Y\n",
        forms=set(DrugForm.values),
        routes=set(Route.values),
    )
    assert rows == []
    assert errors == [
        "Line 1: unknown columns: brands. Expected: generic_name, strength, form, route, "
        "atc_code, usual_adult_dose, max_daily_dose_mg, brand_names."
    ]


def test_brand_keys_ignore_case_spaces_and_punctuation():
    assert brand_key("Dolo 650") == brand_key("dolo650") == "DOLO650"
    assert brand_key("Taxim-O 200") == "TAXIMO200"


def test_finding_keys_read_as_words():
    assert finding_label("allergy:nsaids") == "Allergy: NSAIDs (incl. aspirin)"
    assert finding_label("allergy:IBUPROFEN") == "Allergy: IBUPROFEN"
    assert finding_label("over_max_dose") == "Dose above the maximum"
    assert BY_KEY["cephalosporins"].covers("J01DD08")
    assert not BY_KEY["cephalosporins"].covers("J01DH02")
