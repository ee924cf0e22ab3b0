"""Pages load nothing from other sites, and the browser is told to refuse it anyway."""

import re

import pytest

from clinics.roles import Role

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/password_reset/"])
def test_public_pages_are_self_contained(client, db, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert not EXTERNAL.search(response.content.decode())


def test_clinic_pages_are_self_contained(clinic, member_factory, client_for):
    client = client_for(member_factory(clinic, Role.OWNER))
    for path in ("/c/asha/", "/c/asha/patients/", "/c/asha/patients/new/", "/c/asha/staff/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not EXTERNAL.search(response.content.decode()), path
        assert "default-src 'self'" in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"


def test_api_docs_work_offline(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert not EXTERNAL.search(response.content.decode())
    assert "/static/drf_spectacular_sidecar/" in response.content.decode()


def test_benchmark_headers_only_when_asked(db, settings):
    from django.test import Client

    assert "X-Query-Count" not in Client().get("/accounts/login/")
    settings.QUERY_COUNT_HEADER = True
    response = Client().get("/accounts/login/")
    assert int(response["X-Query-Count"]) >= 0
    assert float(response["X-Server-Time-Ms"]) > 0


INLINE_HANDLER = re.compile(r"""<[^>]*\son[a-z]+\s*=\s*["']""", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def test_no_template_relies_on_inline_script_the_policy_would_block():
    """`script-src 'self'` blocks inline handlers and scripts: a confirm() in onsubmit would be
    skipped silently and the form sent without asking. Behaviour lives in static/js instead."""
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.BASE_DIR) / "templates"
    offenders = []
    for path in root.rglob("*.html"):
        if path.is_relative_to(root / "pdf"):
            continue  # rendered to PDF by WeasyPrint, never run by a browser
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_HANDLER, INLINE_SCRIPT):
            offenders += [
                f"{path.relative_to(root)}: {m.group(0)[:80]}" for m in pattern.finditer(text)
            ]
    assert offenders == []


def test_forms_that_ask_first_get_the_confirmation_script(clinic, member_factory, client_for):
    client = client_for(member_factory(clinic, Role.OWNER))
    html = client.get("/c/asha/").content.decode()
    assert "js/vaidya-confirm.js" in html


def test_hsts_covers_this_host_only_unless_the_operator_opts_in(client, db, settings):
    # Production settings (DEBUG=false) over HTTPS: a year of HSTS for Vaidya's own host name.
    # Sub-domains and the browsers' preload list are the operator's to choose.
    response = client.get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000"
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    from django.test import Client  # a new client: the middleware reads the settings at start

    response = Client().get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
