"""Reading allergies typed as free text ("Ibuprofen and other NSAIDs, peanuts") into structured
entries: a drug class where a class is named, a generic name where one is recognised, and the
rest kept as a substance as typed. Used by the data migration and by the checks (free text that
is still on a record is checked too, so nothing typed is ignored)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

CLASS_WORDS: dict[str, tuple[str, ...]] = {
    "nsaids": ("nsaid", "nsaids", "non steroidal", "non-steroidal", "nonsteroidal"),
    "penicillins": ("penicillin", "penicillins", "pencillin"),
    "cephalosporins": ("cephalosporin", "cephalosporins"),
    "carbapenems": ("carbapenem", "carbapenems"),
    "sulfonamides": ("sulfa", "sulpha", "sulfonamide", "sulfonamides", "sulphonamide"),
    "macrolides": ("macrolide", "macrolides"),
    "fluoroquinolones": ("quinolone", "quinolones", "fluoroquinolone", "fluoroquinolones"),
    "tetracyclines": ("tetracyclines",),
    "aminoglycosides": ("aminoglycoside", "aminoglycosides"),
    "opioids": ("opioid", "opioids", "opiate", "opiates"),
    "benzodiazepines": ("benzodiazepine", "benzodiazepines"),
}
_SEGMENTS = re.compile(r"[,;/\n]+|\band\b|&", re.IGNORECASE)
_WORDS = re.compile(r"[a-z0-9]+(?:[ -][a-z0-9]+)*")
_FILLER = re.compile(
    r"\b(allergy|allergic|allergies|to|other|drugs?|group|all|known|h/o|history of|severe|mild)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ReadAllergy:
    substance: str
    drug_class: str


def _word_in(word: str, text: str) -> bool:
    return re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", text) is not None


def read_allergies(text: str, generic_names: Iterable[str]) -> list[ReadAllergy]:
    """Structured entries for free text. Classes and generic names anywhere in a segment are
    recognised; a segment naming neither is kept as typed (a food, latex, dust)."""
    names = sorted({n.lower() for n in generic_names if " + " not in n}, key=len, reverse=True)
    found: list[ReadAllergy] = []
    for segment in _SEGMENTS.split(text or ""):
        segment = " ".join(segment.split())
        lowered = segment.lower()
        if not lowered:
            continue
        hits = [
            ReadAllergy("", key)
            for key, words in CLASS_WORDS.items()
            if any(_word_in(w, lowered) for w in words)
        ]
        hits += [ReadAllergy(n.upper(), "") for n in names if _word_in(n, lowered)]
        if not hits:
            rest = " ".join(_FILLER.sub(" ", segment).split())
            if rest:
                hits = [ReadAllergy(rest[:100], "")]
        for hit in hits:
            if hit not in found:
                found.append(hit)
    return found
