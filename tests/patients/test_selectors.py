import pytest

from patients.selectors import names_similar, patient_list
from tests.factories import PatientFactory


@pytest.fixture
def people(scoped):
    return {
        "meena": PatientFactory(
            clinic=scoped,
            full_name="Meena Kumari",
            search_name="meena kumari",
            phone="+919845012345",
        ),
        "arjun": PatientFactory(
            clinic=scoped,
            full_name="Arjun Rao",
            search_name="arjun rao",
            phone="+919900011122",
            whatsapp_phone="+919845077777",
        ),
        "old": PatientFactory(
            clinic=scoped,
            full_name="Kumar Swamy",
            search_name="kumar swamy",
            phone="+919811122233",
            archived_at="2026-01-01T00:00:00Z",
        ),
    }


def names(qs):
    return sorted(p.full_name for p in qs)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kum", ["Meena Kumari"]),
        ("MEENA", ["Meena Kumari"]),
        ("  meena   kumari ", ["Meena Kumari"]),
        ("98450 12345", ["Meena Kumari"]),
        ("+91-98450-12345", ["Meena Kumari"]),
        ("098450 12345", ["Meena Kumari"]),
        ("(984) 501-2345", ["Meena Kumari"]),
        ("9845077777", ["Arjun Rao"]),
        ("12345", ["Meena Kumari"]),
        ("P-000002", ["Arjun Rao"]),
        ("p2", ["Arjun Rao"]),
        ("nobody", []),
    ],
)
def test_search(people, query, expected):
    assert names(patient_list(query=query)) == expected


def test_archived_hidden_unless_asked(people):
    assert "Kumar Swamy" not in names(patient_list())
    assert "Kumar Swamy" in names(patient_list(query="swamy", include_archived=True))


def test_list_is_newest_first(people):
    assert [p.full_name for p in patient_list()] == ["Arjun Rao", "Meena Kumari"]


def test_other_clinics_patients_never_listed(people, other_clinic):
    PatientFactory(clinic=other_clinic, full_name="Meena Kumari", phone="+919845012345")
    assert len(patient_list(query="meena")) == 1


@pytest.mark.parametrize(
    ("a", "b", "similar"),
    [
        ("Ramesh Kumar", "ramesh  kumar", True),
        ("Ramesh K", "Ramesh Kumar", True),
        ("Lakshmi Narayanan", "Laxmi Narayanan", True),
        ("Ramesh Kumar", "Sunita Devi", False),
        ("", "Sunita", False),
    ],
)
def test_names_similar(a, b, similar):
    assert names_similar(a, b) is similar
