"""Who may call the API, and the one error shape every failure answers with."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone
from django_scopes import get_scope
from rest_framework.test import APIClient, APIRequestFactory

from clinics.api.views import ClinicAPIView
from clinics.roles import Perm, Role
from clinics.tenancy import clinic_scope
from clinics.views import csrf_failure
from patients.models import Patient
from tests.api.conftest import LIST_URL, assert_error
from tests.factories import make_api_key

VALID = {
    "full_name": "Lakshmi Iyer",
    "sex": "F",
    "phone": "98450 12345",
    "date_of_birth": "1980-01-01",
}


def _patients(clinic) -> int:
    with clinic_scope(clinic):
        return Patient.objects.count()


def test_missing_key_is_401_with_a_hint(clinic):
    response = APIClient().get(LIST_URL)
    body = assert_error(response, 401, "not_authenticated")
    assert body["type"] == "authentication_error"
    assert "Bearer" in body["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("token", ["vdy_not-a-real-key", "not-even-the-prefix"])
def test_unknown_key_is_401(clinic, token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = assert_error(client.get(LIST_URL), 401, "authentication_failed")
    assert "not valid" in body["detail"]


def test_revoked_key_is_401(clinic, api_client_for):
    client = api_client_for(clinic)
    assert client.get(LIST_URL).status_code == 200
    client.api_key.revoked_at = timezone.now()
    client.api_key.save()
    assert_error(client.get(LIST_URL), 401, "authentication_failed")


def test_key_of_a_deactivated_clinic_is_401(clinic, api_client_for):
    client = api_client_for(clinic)
    clinic.is_active = False
    clinic.save()
    assert_error(client.get(LIST_URL), 401, "authentication_failed")


def test_read_only_key_reads_but_cannot_write(clinic, api_client_for):
    client = api_client_for(clinic, role=Role.OWNER, read_only=True)
    assert client.get(LIST_URL).status_code == 200
    body = assert_error(client.post(LIST_URL, VALID, format="json"), 403, "permission_denied")
    assert "read-only" in body["detail"]
    assert _patients(clinic) == 0


def test_billing_role_key_cannot_register_patients(clinic, api_client_for):
    client = api_client_for(clinic, role=Role.BILLING)
    assert client.get(LIST_URL).status_code == 200
    body = assert_error(client.post(LIST_URL, VALID, format="json"), 403, "permission_denied")
    assert body["type"] == "permission_error"
    assert _patients(clinic) == 0


def test_front_desk_key_cannot_archive(clinic, api_client_for, make_patient):
    patient = make_patient()
    client = api_client_for(clinic, role=Role.FRONT_DESK)
    assert_error(client.post(f"/api/v1/patients/{patient.pk}/archive/"), 403)


def test_session_user_names_the_clinic_with_x_clinic(clinic, other_clinic, member_factory):
    member = member_factory(clinic, Role.FRONT_DESK)
    client = APIClient()
    client.force_login(member.user)
    response = client.get("/api/v1/clinic/", HTTP_X_CLINIC=clinic.slug)
    assert response.status_code == 200
    assert response.json()["slug"] == clinic.slug
    created = client.post(LIST_URL, VALID, format="json", HTTP_X_CLINIC=clinic.slug)
    assert created.status_code == 201, created.content
    # A clinic they are not a member of: not found, not forbidden.
    body = assert_error(client.get(LIST_URL, HTTP_X_CLINIC=other_clinic.slug), 404, "not_found")
    assert body["type"] == "not_found"
    assert_error(client.get(LIST_URL, HTTP_X_CLINIC="no-such-clinic"), 404)


def test_session_user_without_a_clinic_is_told_to_name_one(clinic, member_factory):
    member = member_factory(clinic)
    client = APIClient()
    client.force_login(member.user)
    body = assert_error(client.get(LIST_URL), 403)
    assert "X-Clinic" in body["detail"]


def test_session_writes_need_the_csrf_token(clinic, member_factory):
    member = member_factory(clinic)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(member.user)
    assert_error(client.post(LIST_URL, VALID, format="json", HTTP_X_CLINIC=clinic.slug), 403)
    assert _patients(clinic) == 0


def test_malformed_json_is_400_parse_error(api, clinic):
    response = api.post(LIST_URL, data='{"full_name": ', content_type="application/json")
    body = assert_error(response, 400, "parse_error")
    assert body["type"] == "invalid_request"
    assert _patients(clinic) == 0


def nested(levels: int, inner: str = "1") -> str:
    return "[" * levels + inner + "]" * levels


@pytest.mark.parametrize("method", ["post", "patch"])
def test_json_nested_50000_levels_deep_is_400_too_deep(api, clinic, make_patient, method):
    patient = make_patient()
    url = LIST_URL if method == "post" else f"/api/v1/patients/{patient.pk}/"
    for body in (nested(50_000), '{"full_name": ' + nested(50_000) + "}"):
        response = getattr(api, method)(url, data=body, content_type="application/json")
        error = assert_error(response, 400, "too_deep")
        assert error["detail"] == "The JSON is nested more than 32 levels deep."
    assert _patients(clinic) == 1


def test_json_is_refused_past_32_levels_and_brackets_in_strings_do_not_count(api, clinic):
    def post(body: str):
        return api.post(LIST_URL, data=body, content_type="application/json")

    assert_error(post('{"full_name": ' + nested(32) + "}"), 400, "too_deep")
    within = assert_error(post('{"full_name": ' + nested(31) + "}"), 400, "invalid")
    assert "full_name" in within["fields"]
    quoted = '{"full_name": "\\"' + "[" * 100 + '", "sex": ' + nested(40) + "}"
    assert_error(post(quoted), 400, "too_deep")
    in_a_string = '{"full_name": "\\"' + "[{" * 100 + '", "sex": []}'
    assert "sex" in assert_error(post(in_a_string), 400, "invalid")["fields"]
    assert _patients(clinic) == 0


def test_a_json_array_is_refused(api, clinic):
    body = assert_error(api.post(LIST_URL, [VALID], format="json"), 400, "invalid")
    assert body["detail"] == "Send a JSON object."


def test_wrong_content_type_is_415(api, clinic):
    response = api.post(LIST_URL, data="full_name=Lakshmi", content_type="text/plain")
    body = assert_error(response, 415, "unsupported_media_type")
    assert body["type"] == "unsupported_media_type"


def test_unknown_api_path_is_404_json(api):
    body = assert_error(api.get("/api/v1/no-such-thing/"), 404, "not_found")
    assert body["type"] == "not_found"
    assert_error(api.get("/api/v1/patients/not-a-number/"), 404)


def test_a_body_over_the_size_limit_is_413_in_the_error_shape(api, clinic, settings):
    too_big = {**VALID, "full_name": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    body = assert_error(api.post(LIST_URL, too_big, format="json"), 413, "too_large")
    assert body["detail"] == "The request body is too large: send at most 2,621,440 bytes."
    unknown = api.post("/api/v1/no-such-thing/", too_big, format="json")
    assert_error(unknown, 404, "not_found")
    assert _patients(clinic) == 0


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writes_to_an_unknown_api_path_are_404_json_not_a_csrf_page(clinic, member_factory, method):
    anonymous = APIClient(enforce_csrf_checks=True)
    signed_in = APIClient(enforce_csrf_checks=True)
    signed_in.force_login(member_factory(clinic).user)
    for client in (anonymous, signed_in):
        for path in ("/api/v1/no-such-thing/", "/api/v2/patients/", "/api/v1/patients"):
            response = getattr(client, method)(path, {"a": 1}, format="json")
            assert_error(response, 404, "not_found")


def test_a_csrf_refusal_under_the_api_is_in_the_error_shape(rf):
    response = csrf_failure(rf.post("/api/v1/patients/"), reason="CSRF token missing.")
    assert response.status_code == 403
    assert json.loads(response.content) == {
        "type": "permission_error",
        "code": "csrf_failed",
        "detail": "The CSRF check failed: CSRF token missing.",
        "fields": {},
    }
    page = csrf_failure(rf.post("/c/asha/patients/new/"), reason="CSRF token missing.")
    assert page.status_code == 403 and page["Content-Type"].startswith("text/html")


def test_method_not_allowed_is_405_in_the_error_shape(api, make_patient):
    patient = make_patient()
    assert_error(api.delete(f"/api/v1/patients/{patient.pk}/"), 405, "method_not_allowed")
    assert_error(api.put(f"/api/v1/patients/{patient.pk}/", {}, format="json"), 405)
    assert_error(api.delete(LIST_URL), 405)


class _Broken(ClinicAPIView):
    required_perms = {"GET": Perm.PATIENTS_VIEW}

    def get(self, request):
        raise RuntimeError("a bug in a handler")


def test_a_crashing_handler_does_not_leave_the_clinic_scope_behind(clinic):
    _, token = make_api_key(clinic, role=Role.OWNER)
    request = APIRequestFactory().get("/api/v1/broken/", HTTP_AUTHORIZATION=f"Bearer {token}")
    with pytest.raises(RuntimeError):
        _Broken.as_view()(request)
    assert get_scope().get("clinic") is None


def test_a_path_without_its_final_slash_gets_a_hint(api):
    body = assert_error(api.get("/api/v1/patients"), 404, "not_found")
    assert "/api/v1/patients/" in body["detail"]
    assert "slash" not in assert_error(api.get("/api/v1/nothing"), 404)["detail"]


def test_session_user_falls_back_to_the_clinic_opened_last(clinic, member_factory):
    member = member_factory(clinic)
    client = APIClient()
    client.force_login(member.user)
    session = client.session
    session["last_clinic"] = clinic.slug
    session.save()
    assert client.get("/api/v1/clinic/").json()["slug"] == clinic.slug


def test_a_clinic_requiring_two_factor_refuses_an_unverified_session(clinic, member_factory):
    clinic.require_two_factor = True
    clinic.save()
    member = member_factory(clinic)
    client = APIClient()
    client.force_login(member.user)
    body = assert_error(client.get(LIST_URL, HTTP_X_CLINIC=clinic.slug), 403)
    assert "two-factor" in body["detail"]
