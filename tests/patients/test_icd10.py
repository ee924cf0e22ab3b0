"""WHO ICD-10 lookups: what a doctor typing a code or a few words gets back."""

import re
import time

import pytest

from patients import icd10


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("j069", "J06.9"),
        ("J06.9", "J06.9"),
        (" j06 .9 ", "J06.9"),
        ("e 11 9", "E11.9"),
        ("a09", "A09"),
        ("b1800", "B18.00"),
        ("", ""),
    ],
)
def test_normalise_code(typed, expected):
    assert icd10.normalise_code(typed) == expected


@pytest.mark.parametrize("code", ["J06.9", "j069", "A09", "J06", "B18.00", "I10", "U07.1"])
def test_real_codes_are_valid(code):
    assert icd10.is_valid_code(code)


@pytest.mark.parametrize(
    "code",
    [
        "J06.7",  # J06 has .0, .8 and .9 only
        "J00-J06",  # a block, not a code
        "X",  # a chapter number
        "I",
        "Z99.99",
        "fever",
        "",
    ],
)
def test_made_up_codes_and_groupings_are_not_valid(code):
    assert not icd10.is_valid_code(code)


def test_describe():
    assert icd10.describe("j069") == "Acute upper respiratory infection, unspecified"
    assert icd10.describe("I10") == "Essential (primary) hypertension"
    assert icd10.describe("J06.7") == ""


def test_code_search_lists_the_code_then_its_subcodes():
    results = icd10.search("j06")
    codes = [code for code, _ in results]
    assert codes[0] == "J06"
    assert set(codes) == {"J06", "J06.0", "J06.8", "J06.9"}
    assert icd10.search("J06.9") == [("J06.9", "Acute upper respiratory infection, unspecified")]
    assert icd10.search("j 069")[0][0] == "J06.9"


def test_code_search_by_a_short_prefix_prefers_leaf_and_shorter_codes():
    codes = [code for code, _ in icd10.search("j0", limit=50)]
    assert codes and all(code.startswith("J0") for code in codes)
    assert codes.index("J00") < codes.index("J01.0")  # J00 is a leaf and shorter
    assert codes.index("J01.0") < codes.index("J01")  # J01 has subcodes: after the leaves


def test_word_search_needs_every_word_in_any_order_and_case():
    results = icd10.search("FEV typh")
    assert results[0] == ("A01.0", "Typhoid fever")
    for _, description in results:
        assert any(w.startswith("typh") for w in _words(description))
        assert any(w.startswith("fev") for w in _words(description))


def test_word_search_matches_word_starts_not_the_middle_of_words():
    results = icd10.search("ear", limit=200)
    assert ("T16", "Foreign body in ear") in results
    for _, description in results:  # never only "heart" or "year"
        assert any(w.startswith("ear") for w in _words(description)), description


def test_word_search_ignores_accents():
    assert ("H81.0", "Ménière disease") in icd10.search("meniere")


def test_word_search_puts_leaf_codes_first_then_shorter_codes():
    results = icd10.search("asthma", limit=50)
    codes = [code for code, _ in results]
    assert codes[0] == "J45.9"  # Asthma, unspecified: a common outpatient code comes first
    # After the common codes: leaves (J46, status asthmaticus) before their groups (J45).
    assert codes[1] == "J46"
    assert "J45" in codes and codes.index("J45.9") < codes.index("J45")


def test_common_outpatient_codes_come_first():
    assert "R50.9" in [code for code, _ in icd10.search("fever", limit=5)]
    pharyng = [code for code, _ in icd10.search("pharyng", limit=20)]
    assert pharyng.index("J02.9") < pharyng.index("A36.0")  # before pharyngeal diphtheria
    assert icd10.search("cough", limit=1) == [("R05", "Cough")]
    assert all(icd10.is_valid_code(code) for code in icd10.COMMON_OUTPATIENT_CODES)


def test_limit_and_empty_queries():
    assert len(icd10.search("fever", limit=5)) == 5
    assert icd10.search("fever", limit=0) == []
    assert icd10.search("") == []
    assert icd10.search("   ") == []
    assert icd10.search("!!") == []
    assert icd10.search("zzqx") == []


def test_search_is_fast_once_loaded():
    icd10.search("warm up")
    queries = ["zzqx unknown words", "hypertension", "type 2 diab kidney", "j", "e11", "dengue"]
    for query in queries:
        best = min(_timed(query) for _ in range(3))
        assert best < 0.020, f"searching {query!r} took {best * 1000:.1f} ms"


def _timed(query):
    start = time.perf_counter()
    icd10.search(query)
    return time.perf_counter() - start


def _words(text):
    return re.findall(r"[a-z0-9]+", text.lower())
