from config.sentry import FILTERED, scrub_event


def test_scrubber_removes_personal_data_everywhere():
    event = {
        "request": {
            "url": "https://clinic.example.in/c/asha/patients/12/",
            "data": {"full_name": "Meena Kumari", "phone": "+919845012345"},
            "cookies": {"sessionid": "abc"},
            "query_string": "q=meena",
            "headers": {
                "Cookie": "sessionid=abc",
                "Authorization": "Bearer vdy_x",
                "User-Agent": "Firefox",
                "X-Clinic": "asha",
            },
        },
        "user": {"id": 7, "email": "doc@example.in", "ip_address": "1.2.3.4"},
        "extra": {"patient": {"full_name": "Meena", "date_of_birth": "1980-01-01", "id": 12}},
        "contexts": {"form": {"abha_address": "meena@abdm", "city_count": 3}},
        "breadcrumbs": {
            "values": [
                {"category": "query", "message": "SELECT ...", "data": {"params": ["Meena"]}},
                {"category": "log", "data": {"guardian_name": "Ravi", "ok": True}},
            ]
        },
        "exception": {
            "values": [
                {
                    "stacktrace": {
                        "frames": [
                            {"function": "view", "vars": {"phone": "+91984", "patient_id": 12}}
                        ]
                    }
                }
            ]
        },
        "logentry": {"message": "Patient %s", "params": ["Meena"]},
    }
    out = scrub_event(event, None)
    text = str(out)
    for secret in (
        "Meena",
        "+919845012345",
        "sessionid",
        "vdy_x",
        "doc@example.in",
        "1.2.3.4",
        "1980-01-01",
        "meena@abdm",
        "Ravi",
        "+91984",
    ):
        assert secret not in text, secret
    assert out["request"]["url"].endswith("/patients/12/")
    assert out["request"]["headers"] == {"User-Agent": "Firefox"}
    assert out["user"] == {"id": 7}
    assert out["extra"]["patient"]["id"] == 12
    assert out["contexts"]["form"]["city_count"] == 3
    assert out["exception"]["values"][0]["stacktrace"]["frames"][0]["vars"]["phone"] == FILTERED
