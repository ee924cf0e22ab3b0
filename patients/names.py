"""Comparing names written in different scripts: "Sunita Devi" and "सुनीता देवी" are one name.

`latin_key` spells a name in plain Latin letters and smooths the spellings that differ only by
habit (aa/a, ee/ii/i, oo/u, w/v), so that a registration typed in English finds a patient
registered in Hindi. Indian scripts are read through Unicode's own character names (DEVANAGARI
LETTER SA, VOWEL SIGN II, SIGN VIRAMA, ...), which spell each letter's sound, so Devanagari,
Bengali, Gurmukhi, Gujarati, Odia, Tamil, Telugu, Kannada and Malayalam all work without a
table per script. It is a key for matching, not a transliteration to show anyone.
"""

from __future__ import annotations

import re
import unicodedata

_SCRIPTS = (
    "DEVANAGARI",
    "BENGALI",
    "GURMUKHI",
    "GUJARATI",
    "ORIYA",
    "TAMIL",
    "TELUGU",
    "KANNADA",
    "MALAYALAM",
)
# Spellings of one sound that names use interchangeably, smoothed the same way in every script.
_SMOOTHING = (
    (re.compile(r"aa+"), "a"),
    (re.compile(r"(ee|ii|ie|y(?=$| ))"), "i"),
    (re.compile(r"(oo|uu|ou)"), "u"),
    (re.compile(r"w"), "v"),
    (re.compile(r"(sh|ss|s)h?"), "s"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"([bcdgjkpt])h"), r"\1"),
    (re.compile(r"(.)\1+"), r"\1"),
)


def _sound(char: str) -> tuple[str, str] | None:
    """(kind, Latin sound) of an Indian-script character, from its Unicode name."""
    name = unicodedata.name(char, "")
    script = next((s for s in _SCRIPTS if name.startswith(s + " ")), None)
    if script is None:
        return None
    rest = name[len(script) + 1 :]
    if rest.startswith("LETTER VOCALIC "):  # ऋ, as in Rishi
        return ("vowel", "ri")
    if rest.startswith("LETTER "):
        sound = rest.removeprefix("LETTER ").replace(" ", "").lower()
        return ("vowel" if sound.strip("aeiou") == "" else "consonant", sound)
    if rest.startswith("VOWEL SIGN VOCALIC "):  # the ृ of कृष्ण
        return ("sign", "ri")
    if rest.startswith("VOWEL SIGN "):
        return ("sign", rest.removeprefix("VOWEL SIGN ").replace(" ", "").lower())
    if rest in ("SIGN VIRAMA", "SIGN HALANT"):
        return ("virama", "")
    if rest in ("SIGN ANUSVARA", "SIGN CANDRABINDU"):
        return ("nasal", "n")
    return ("mark", "")  # nukta, visarga, accents: no sound of their own for matching


def _latin_letters(name: str) -> str:
    out: list[str] = []
    inherent = False  # the last consonant still carries its inherent "a"
    for char in name:
        sound = _sound(char)
        if sound is None:
            out.append(char)
            inherent = False
            continue
        kind, letters = sound
        if kind in ("sign", "virama") and inherent and out and out[-1].endswith("a"):
            out[-1] = out[-1][:-1] + letters
            inherent = False
        elif kind == "consonant":
            out.append(letters)
            inherent = True
        elif kind in ("vowel", "nasal"):
            out.append(letters)
            inherent = False
    return "".join(out)


def latin_key(name: str) -> str:
    """'सुनीता देवी' -> 'sunita devi', 'Sunita Devi' -> 'sunita devi', 'रमेश' -> 'rames'."""
    text = unicodedata.normalize("NFC", name or "")
    latin = unicodedata.normalize("NFKD", _latin_letters(text).casefold())
    latin = "".join(ch for ch in latin if not unicodedata.combining(ch))
    words = []
    for word in re.findall(r"[a-z0-9]+", latin):
        for pattern, replacement in _SMOOTHING:
            word = pattern.sub(replacement, word)
        words.append(word)
    # Hindi drops a word's final inherent "a" in speech ("रमेश" is Ramesh, not Ramesha).
    return " ".join(
        w[:-1] if len(w) > 2 and w.endswith("a") and w[-2] not in "aeiou" else w for w in words
    )
