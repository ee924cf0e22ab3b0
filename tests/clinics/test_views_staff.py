"""Staff and roles: inviting, changing roles, deactivating, doctor details."""

from __future__ import annotations

import io

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from clinics.audit import Actions
from clinics.models import AuditEvent, DoctorProfile, Invitation, Membership
from clinics.roles import Role
from clinics.services import invitation_create
from clinics.tenancy import clinic_scope
from tests.factories import DoctorProfileFactory

STAFF = reverse("staff-list", args=["asha"])


def url(name: str, *args) -> str:
    return reverse(name, args=["asha", *args])


def image_upload(fmt: str = "PNG", size=(300, 80), name="signature.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


@pytest.fixture
def owner_client(owner, client_for):
    return client_for(owner)


@pytest.fixture
def doctor(clinic, member_factory):
    return member_factory(clinic, Role.DOCTOR)


def test_staff_page_lists_members_with_role_status_and_registration(
    owner_client, clinic, doctor, member_factory
):
    DoctorProfileFactory(membership=doctor, clinic=clinic, registration_number="KMC-12345")
    gone = member_factory(clinic, Role.ASSISTANT, is_active=False)
    html = owner_client.get(STAFF).content.decode()
    assert doctor.user.full_name in html and "KMC-12345" in html
    assert gone.user.full_name in html and "Deactivated" in html
    assert "Send invitation" in html


def test_front_desk_sees_the_staff_list_but_cannot_manage(client_for, clinic, member_factory):
    front_desk = member_factory(clinic, Role.FRONT_DESK)
    client = client_for(front_desk)
    html = client.get(STAFF).content.decode()
    assert front_desk.user.full_name in html
    assert "Send invitation" not in html and "Deactivate" not in html
    response = client.post(url("staff-invite"), {"email": "x@example.in", "role": "doctor"})
    assert response.status_code == 403
    with clinic_scope(clinic):
        assert not Invitation.objects.exists()


def test_owner_invites_someone_and_the_email_goes_out(
    owner_client, clinic, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            url("staff-invite"), {"email": "Priya.Nair@Example.in", "role": Role.DOCTOR}
        )
    assert response.url == STAFF
    with clinic_scope(clinic):
        invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role) == ("priya.nair@example.in", Role.DOCTOR)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["priya.nair@example.in"]
    assert "/invite/" in mail.outbox[0].body
    page = owner_client.get(STAFF).content.decode()
    assert "Invitation sent to priya.nair@example.in as Doctor" in page
    assert "priya.nair@example.in" in page.split("Open invitations")[1]


def test_inviting_an_existing_member_shows_the_error(owner_client, doctor):
    response = owner_client.post(
        url("staff-invite"), {"email": doctor.user.email, "role": Role.OWNER}
    )
    assert response.status_code == 400
    assert "This person already works at this clinic." in response.content.decode()


def test_bad_invite_input_is_shown_on_the_form(owner_client):
    response = owner_client.post(url("staff-invite"), {"email": "not-an-email", "role": "king"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a valid email address." in html
    assert "Select a valid choice." in html


def test_owner_withdraws_an_invitation(owner_client, clinic, owner):
    with clinic_scope(clinic):
        invitation = invitation_create(
            clinic=clinic, actor=owner.user, email="late@example.in", role=Role.BILLING
        )
    response = owner_client.post(url("invitation-revoke", invitation.pk), follow=True)
    assert "The invitation for late@example.in was withdrawn." in response.content.decode()
    with clinic_scope(clinic):
        invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_owner_changes_a_role(owner_client, clinic, doctor):
    response = owner_client.post(
        url("membership-role", doctor.pk), {"role": Role.ASSISTANT}, follow=True
    )
    assert f"{doctor.user.full_name} is now Assistant (nurse)." in response.content.decode()
    with clinic_scope(clinic):
        doctor.refresh_from_db()
        assert doctor.role == Role.ASSISTANT
        assert AuditEvent.objects.filter(action=Actions.MEMBERSHIP_ROLE_CHANGED).exists()


def test_the_last_owner_cannot_stop_being_owner(owner_client, clinic, owner):
    response = owner_client.post(
        url("membership-role", owner.pk), {"role": Role.DOCTOR}, follow=True
    )
    assert "A clinic needs at least one active owner." in response.content.decode()
    deactivate = owner_client.post(url("membership-deactivate", owner.pk), follow=True)
    assert "A clinic needs at least one active owner." in deactivate.content.decode()
    with clinic_scope(clinic):
        owner.refresh_from_db()
    assert owner.role == Role.OWNER and owner.is_active


def test_owner_deactivates_and_reactivates_someone(owner_client, clinic, doctor, client_for):
    doctor_client = client_for(doctor)
    response = owner_client.post(url("membership-deactivate", doctor.pk), follow=True)
    assert "can no longer use this clinic" in response.content.decode()
    assert doctor_client.get(reverse("dashboard", args=["asha"])).status_code == 404

    response = owner_client.post(url("membership-reactivate", doctor.pk), follow=True)
    assert "can use this clinic again" in response.content.decode()
    with clinic_scope(clinic):
        assert Membership.objects.get(pk=doctor.pk).is_active
    assert doctor_client.get(reverse("dashboard", args=["asha"])).status_code == 200


def test_staff_writes_are_post_only(owner_client, doctor):
    assert owner_client.get(url("membership-deactivate", doctor.pk)).status_code == 405
    assert owner_client.get(url("membership-role", doctor.pk)).status_code == 405
    assert owner_client.get(url("staff-invite")).status_code == 405


def test_doctor_cannot_change_roles(client_for, doctor, owner):
    client = client_for(doctor)
    assert client.post(url("membership-role", owner.pk), {"role": "doctor"}).status_code == 403
    assert client.post(url("membership-deactivate", owner.pk)).status_code == 403


# ---------------------------------------------------------------------------------------------
# Doctor details


def doctor_details(**extra):
    return {
        "qualifications": "MBBS, MD (Paediatrics)",
        "medical_council": "Karnataka Medical Council",
        "registration_number": "KMC-77001",
        "specialisation": "Paediatrics",
        **extra,
    }


def test_owner_saves_a_doctors_details_with_a_signature(owner_client, clinic, doctor):
    response = owner_client.post(
        url("doctor-profile", doctor.pk), doctor_details(signature=image_upload())
    )
    assert response.url == STAFF
    with clinic_scope(clinic):
        profile = DoctorProfile.objects.get(membership=doctor)
    assert profile.registration_number == "KMC-77001"
    assert profile.signature.name.endswith(".png")
    assert profile.signature.name.startswith(f"clinics/{clinic.pk}/signatures/")
    assert "KMC-77001" in owner_client.get(STAFF).content.decode()


def test_a_jpeg_signature_keeps_its_extension(owner_client, clinic, doctor):
    owner_client.post(
        url("doctor-profile", doctor.pk),
        doctor_details(signature=image_upload("JPEG", name="scan.jpeg")),
    )
    with clinic_scope(clinic):
        assert DoctorProfile.objects.get(membership=doctor).signature.name.endswith(".jpg")


def test_a_doctor_edits_their_own_details(client_for, clinic, doctor):
    client = client_for(doctor)
    assert client.get(url("doctor-profile", doctor.pk)).status_code == 200
    assert client.post(url("doctor-profile", doctor.pk), doctor_details()).status_code == 302
    with clinic_scope(clinic):
        assert DoctorProfile.objects.get(membership=doctor).specialisation == "Paediatrics"


def test_a_doctor_cannot_edit_another_doctors_details(client_for, clinic, doctor, member_factory):
    other = member_factory(clinic, Role.DOCTOR)
    client = client_for(doctor)
    assert client.get(url("doctor-profile", other.pk)).status_code == 403
    assert client.post(url("doctor-profile", other.pk), doctor_details()).status_code == 403
    with clinic_scope(clinic):
        assert not DoctorProfile.objects.exists()


def test_a_signature_that_is_not_an_image_is_refused(owner_client, clinic, doctor):
    fake = SimpleUploadedFile("signature.png", b"not really a picture", content_type="image/png")
    response = owner_client.post(url("doctor-profile", doctor.pk), doctor_details(signature=fake))
    assert response.status_code == 400
    assert "Upload a valid image" in response.content.decode()
    with clinic_scope(clinic):
        assert not DoctorProfile.objects.exists()


def test_a_signature_over_1_mb_is_refused(owner_client, clinic, doctor):
    big = image_upload("BMP", size=(800, 600), name="signature.bmp")  # ~1.4 MB
    assert big.size > 1024 * 1024
    response = owner_client.post(url("doctor-profile", doctor.pk), doctor_details(signature=big))
    assert response.status_code == 400
    assert "larger than 1 MB" in response.content.decode()


def test_a_signature_of_too_many_pixels_is_refused_naming_the_limit(owner_client, clinic, doctor):
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, "PNG")  # 12 KB
    huge = SimpleUploadedFile("signature.png", buffer.getvalue(), content_type="image/png")
    response = owner_client.post(url("doctor-profile", doctor.pk), doctor_details(signature=huge))
    assert response.status_code == 400
    assert "The signature image has more than 40 megapixels" in response.content.decode()
    with clinic_scope(clinic):
        assert not DoctorProfile.objects.exists()


def test_a_gif_signature_is_refused(owner_client, doctor):
    gif = image_upload("GIF", name="signature.gif")
    response = owner_client.post(url("doctor-profile", doctor.pk), doctor_details(signature=gif))
    assert response.status_code == 400
    assert "PNG or JPEG" in response.content.decode()


def test_front_desk_has_no_doctor_details(owner_client, clinic, member_factory):
    front_desk = member_factory(clinic, Role.FRONT_DESK)
    response = owner_client.post(url("doctor-profile", front_desk.pk), doctor_details())
    assert response.status_code == 400
    assert "Only doctors (or owners who practise) have a doctor profile." in (
        response.content.decode()
    )


def test_deactivating_someone_asks_first_and_says_what_happens(owner_client, clinic, doctor):
    staff_page = owner_client.get(url("staff-list")).content.decode()
    # The list offers a way to the question, not a one-click form that deactivates.
    assert f'action="{url("membership-deactivate", doctor.pk)}"' not in staff_page
    assert url("membership-deactivate-confirm", doctor.pk) in staff_page

    page = owner_client.get(url("membership-deactivate-confirm", doctor.pk))
    html = page.content.decode()
    assert page.status_code == 200
    assert f"Deactivate {doctor.user.full_name}?" in html
    assert "can no longer sign in to this clinic" in html
    assert f'action="{url("membership-deactivate", doctor.pk)}"' in html
    with clinic_scope(clinic):
        assert Membership.objects.get(pk=doctor.pk).is_active  # asking changed nothing

    owner_client.post(url("membership-deactivate", doctor.pk))
    with clinic_scope(clinic):
        assert not Membership.objects.get(pk=doctor.pk).is_active
    # Someone already deactivated has nothing to confirm.
    assert owner_client.get(url("membership-deactivate-confirm", doctor.pk)).status_code == 404


def test_only_staff_managers_see_the_deactivation_question(client_for, doctor, owner):
    assert client_for(doctor).get(url("membership-deactivate-confirm", owner.pk)).status_code == 403
