"""The OpenAPI schema and the docs pages, which must work without the internet."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command


@pytest.fixture
def schema(client, db) -> dict:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_schema_describes_the_patients_api(schema):
    paths = schema["paths"]
    assert {
        "/api/v1/patients/",
        "/api/v1/patients/{patient_id}/",
        "/api/v1/patients/{patient_id}/archive/",
        "/api/v1/patients/{patient_id}/restore/",
        "/api/v1/patients/{patient_id}/guardians/",
        "/api/v1/clinic/",
        "/api/v1/staff/",
        "/api/v1/staff/{membership_id}/",
    } <= set(paths)
    create = paths["/api/v1/patients/"]["post"]
    assert create["summary"]
    assert {"201", "400", "401", "403", "409", "415", "422"} <= set(create["responses"])
    assert create["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"]}
    listing = paths["/api/v1/patients/"]["get"]
    assert {"cursor", "page_size", "q", "include_archived", "X-Clinic"} <= {
        p["name"] for p in listing["parameters"]
    }
    error = schema["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"type", "code", "detail", "fields"}


def test_schema_describes_bearer_keys_and_the_session(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiKey"]["type"] == "http"
    assert schemes["apiKey"]["scheme"] == "bearer"
    assert "X-Clinic" in schemes["session"]["description"]
    assert {"apiKey": []} in schema["paths"]["/api/v1/patients/"]["get"]["security"]


def test_schema_validates_without_warnings(tmp_path, db):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "/api/v1/patients/" in out.read_text()


def test_docs_pages_load_only_local_files(client, db):
    for url in ("/api/docs/", "/api/redoc/"):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        sources = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
        assert sources, url
        for source in sources:
            assert source.startswith("/"), f"{url} loads {source}"
            assert not source.startswith("//"), f"{url} loads {source}"
        assert "cdn" not in html.lower()
        assert "/api/schema/" in html


def test_swagger_ui_files_are_served(client, db):
    html = client.get("/api/docs/").content.decode()
    [script] = [s for s in re.findall(r'src="([^"]+)"', html) if "swagger-ui-bundle" in s]
    assert script.startswith("/static/")
    response = client.get(script)
    try:
        assert response.status_code == 200
        assert b"SwaggerUIBundle" in b"".join(response.streaming_content)
    finally:
        response.close()
