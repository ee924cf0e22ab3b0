"""The Hindi catalogue: complete, consistent with the English, and what Django actually uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from clinics.roles import Role
from compliance.models import ConsentPurpose
from compliance.notices import NOTICES

CATALOGUE = Path(__file__).resolve().parent.parent / "locale" / "hi" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|\{[a-z_]+\}")


def _unquote(lines: list[str]) -> str:
    text = "".join(re.fullmatch(r'(?:\S+ )?"(.*)"', line.strip()).group(1) for line in lines)
    return text.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def entries() -> list[dict]:
    """Each entry of the catalogue: msgid, plural, translations and flags (the header left out)."""
    found = []
    for block in CATALOGUE.read_text(encoding="utf-8").strip().split("\n\n"):
        flags, fields, current = set(), {}, None
        for line in block.splitlines():
            if line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[current].append(line)
            else:
                current = line.split(" ", 1)[0]
                fields[current] = [line]
        entry = {key: _unquote(lines) for key, lines in fields.items()}
        if entry.get("msgid"):
            entry["flags"] = flags
            found.append(entry)
    return found


def translations(entry: dict) -> list[str]:
    return [value for key, value in entry.items() if key.startswith("msgstr")]


def test_every_entry_of_the_hindi_catalogue_is_translated_and_none_is_fuzzy():
    catalogue = entries()
    assert len(catalogue) > 200
    untranslated = [e["msgid"] for e in catalogue if not all(translations(e))]
    fuzzy = [e["msgid"] for e in catalogue if "fuzzy" in e["flags"]]
    assert untranslated == [], "Translate these in locale/hi/LC_MESSAGES/django.po"
    assert fuzzy == [], "Check these translations and remove their fuzzy flag"


def test_translations_keep_the_placeholders_of_the_english():
    for entry in entries():
        expected = sorted(PLACEHOLDER.findall(entry["msgid"]))
        for text in translations(entry):
            assert sorted(PLACEHOLDER.findall(text)) == expected, entry["msgid"]


def test_the_compiled_catalogue_is_what_django_uses():
    notice = NOTICES[ConsentPurpose.WHATSAPP_CARE]
    with translation.override("hi"):
        assert translation.gettext(notice).startswith("{clinic} आपको {phone} पर")
        assert translation.gettext("How to take") == "कैसे लें"
    with translation.override("ta"):  # no Tamil catalogue yet: English
        assert translation.gettext(notice) == notice


@pytest.mark.django_db
def test_the_front_desk_switches_its_pages_to_hindi(clinic, member_factory, client_for):
    client = client_for(member_factory(clinic, Role.FRONT_DESK))
    patients = reverse("patient-list", args=[clinic.slug])
    page = client.get(patients).content.decode()
    assert '<html lang="en">' in page and "Show archived patients" in page
    response = client.post(reverse("set_language"), {"language": "hi", "next": patients})
    assert response.status_code == 302 and response["Location"] == patients
    page = client.get(patients).content.decode()
    assert '<html lang="hi">' in page
    assert "संग्रहित मरीज़ भी दिखाएँ" in page
    register = client.get(reverse("patient-create", args=[clinic.slug])).content.decode()
    assert "मरीज़ का पंजीकरण करें" in register and "पूरा नाम" in register
