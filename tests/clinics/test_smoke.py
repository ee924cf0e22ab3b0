from clinics.tenancy import clinic_scope
from patients.models import Patient
from patients.services import patient_create


def test_patient_gets_sequential_number(clinic, owner):
    with clinic_scope(clinic):
        a = patient_create(
            clinic=clinic,
            actor=owner.user,
            full_name="Lakshmi Iyer",
            sex="F",
            phone="98450 12345",
            date_of_birth="1980-01-01",
        )
        b = patient_create(
            clinic=clinic,
            actor=owner.user,
            full_name="Ravi Shankar",
            sex="M",
            phone="+91 98450 54321",
            age_years=40,
        )
        assert (a.patient_number, b.patient_number) == ("P-000001", "P-000002")
        assert str(b.phone) == "+919845054321"
        assert b.dob_estimated
        assert Patient.objects.count() == 2
