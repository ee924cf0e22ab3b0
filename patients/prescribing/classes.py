"""Drug classes by WHO ATC code: what an allergy to a class covers, and which classes count as
duplicate therapy when two medicines of one class are prescribed together.

A class is a set of ATC prefixes. PARACETAMOL (N02BE01) is in none of the named classes: it is
not an NSAID. Aspirin is an NSAID at any dose, so the antiplatelet code B01AC06 is listed too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DrugClass:
    key: str
    label: str
    atc_prefixes: tuple[str, ...]
    allergy: bool = True
    """Offered as an allergy (penicillins, NSAIDs ...); classes offered only for duplicates are
    still matched when an allergy names them."""
    duplicate: bool = True
    """Two medicines of this class on one prescription is duplicate therapy."""

    def covers(self, atc_code: str) -> bool:
        code = (atc_code or "").upper()
        return bool(code) and code.startswith(self.atc_prefixes)


DRUG_CLASSES: tuple[DrugClass, ...] = (
    DrugClass("nsaids", "NSAIDs (incl. aspirin)", ("M01A", "N02BA", "B01AC06", "M02AA")),
    DrugClass("penicillins", "Penicillins", ("J01C",)),
    DrugClass("cephalosporins", "Cephalosporins", ("J01DB", "J01DC", "J01DD", "J01DE")),
    DrugClass("carbapenems", "Carbapenems", ("J01DH",)),
    DrugClass("sulfonamides", "Sulfonamide antibiotics (sulfa)", ("J01E",)),
    DrugClass("macrolides", "Macrolides", ("J01FA",)),
    DrugClass("fluoroquinolones", "Fluoroquinolones", ("J01MA",)),
    DrugClass("tetracyclines", "Tetracyclines", ("J01AA",)),
    DrugClass("aminoglycosides", "Aminoglycosides", ("J01GB",)),
    DrugClass("nitroimidazoles", "Nitroimidazoles", ("P01AB", "J01XD")),
    DrugClass("opioids", "Opioids", ("N02A", "R05DA04", "N07BC")),
    DrugClass("benzodiazepines", "Benzodiazepines", ("N05BA", "N05CD", "N03AE")),
    DrugClass("azole_antifungals", "Azole antifungals (oral)", ("J02AC",)),
    DrugClass("statins", "Statins", ("C10AA", "C10BA", "C10BX"), allergy=False),
    DrugClass("ace_inhibitors", "ACE inhibitors", ("C09A", "C09B")),
    DrugClass("arbs", "Angiotensin receptor blockers", ("C09C", "C09D")),
    DrugClass("beta_blockers", "Beta blockers", ("C07",), allergy=False),
    DrugClass("ccbs", "Calcium channel blockers", ("C08",), allergy=False),
    DrugClass("sulfonylureas", "Sulfonylureas", ("A10BB", "A10BD02"), allergy=False),
    DrugClass("dpp4_inhibitors", "DPP-4 inhibitors", ("A10BH", "A10BD07", "A10BD08"), False),
    DrugClass("ppis", "Proton pump inhibitors", ("A02BC",), allergy=False),
    DrugClass("h2_blockers", "H2 blockers", ("A02BA",), allergy=False),
    DrugClass("antihistamines", "Antihistamines (oral)", ("R06A",), allergy=False),
    DrugClass("ssris", "SSRIs", ("N06AB",), allergy=False),
    DrugClass("corticosteroids", "Corticosteroids (by mouth or injection)", ("H02AB",), False),
    DrugClass("anticoagulants", "Anticoagulants", ("B01AA", "B01AF"), allergy=False),
)
BY_KEY: dict[str, DrugClass] = {c.key: c for c in DRUG_CLASSES}
ALLERGY_CLASS_CHOICES: list[tuple[str, str]] = [(c.key, c.label) for c in DRUG_CLASSES if c.allergy]


def classes_of(atc_codes: tuple[str, ...] | list[str] | set[str]) -> set[str]:
    """The keys of the classes any of these ATC codes belongs to."""
    return {c.key for c in DRUG_CLASSES for code in atc_codes if c.covers(code)}


def class_label(key: str) -> str:
    found = BY_KEY.get(key)
    return found.label if found else key


_FINDING_NAMES = {
    "allergy": "Allergy",
    "duplicate_ingredient": "Same medicine twice",
    "duplicate_class": "Duplicate therapy",
    "over_max_dose": "Dose above the maximum",
}


def finding_label(key: str) -> str:
    """A stored finding key in words: "allergy:nsaids" -> "Allergy: NSAIDs (incl. aspirin)"."""
    code, _, subject = key.partition(":")
    name = _FINDING_NAMES.get(code, code)
    return f"{name}: {class_label(subject)}" if subject else name


# Medicines whose name alone tells others what the patient is treated for. A reminder naming
# one of them shows on a phone's lock screen, so messages call them "your evening medicines (2)"
# unless the clinic or the patient chose otherwise. WHO ATC prefixes:
#   N05   psycholeptics: antipsychotics (N05A), anxiolytics (N05B), hypnotics (N05C)
#   N06A  antidepressants; N06B psychostimulants (ADHD)
#   N07B  drugs used in addictive disorders: nicotine (N07BA), alcohol (N07BB), opioid (N07BC)
#   J05AE protease inhibitors, J05AF nucleoside reverse transcriptase inhibitors, J05AG
#         non-nucleoside RT inhibitors, J05AJ integrase inhibitors, J05AR HIV combinations,
#         J05AX other antivirals (mostly HIV: maraviroc, ...). J05AF also holds the hepatitis B
#         drugs (entecavir, tenofovir), which are as private; J05AB (aciclovir) and J05AH
#         (oseltamivir) are not listed.
#   G03A  hormonal contraceptives; G02B intrauterine and vaginal contraceptives;
#   G03D  progestogens; G03X other sex hormones (ulipristal, mifepristone)
#   G02AD prostaglandins (misoprostol); G04BE drugs used in erectile dysfunction
# By class, not by use: hydroxyzine (N05BB) for itching or prochlorperazine (N05AB) for
# vertigo are discreet too, which costs the patient only the names in a reminder.
SENSITIVE_ATC_PREFIXES: tuple[str, ...] = (
    "N05",
    "N06A",
    "N06B",
    "N07B",
    "J05AE",
    "J05AF",
    "J05AG",
    "J05AJ",
    "J05AR",
    "J05AX",
    "G03A",
    "G02B",
    "G03D",
    "G03X",
    "G02AD",
    "G04BE",
)


def is_sensitive(atc_code: str | None) -> bool:
    """Whether a medicine's name would tell others what the patient is treated for."""
    code = (atc_code or "").strip().upper()
    return bool(code) and code.startswith(SENSITIVE_ATC_PREFIXES)
