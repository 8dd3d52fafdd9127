"""Sets of code points for Chroma's regex dialect, as sorted, disjoint, inclusive intervals.

RE2 has no class set operations, no Unicode `\\w`/`\\d`/`\\s` and no binary properties
(`\\p{Alphabetic}`), so the translator computes every class down to intervals here and
emits them as explicit ranges. Property tables come from the `regex` module (one scan of a
string of every scalar value, cached per property); case-fold closures come from RE2 itself,
so that a folded class agrees with RE2's `(?i)` on literals.
"""

from __future__ import annotations

import functools

import numpy as np
import re2
import regex

Intervals = list[tuple[int, int]]

MAX_CODEPOINT = 0x10FFFF
SURROGATES = (0xD800, 0xDFFF)
ASCII_PERL = {
    "d": [(48, 57)],
    "s": [(9, 13), (32, 32)],
    "w": [(48, 57), (65, 90), (95, 95), (97, 122)],
}


def union(a: Intervals, b: Intervals) -> Intervals:
    merged: Intervals = []
    for lo, hi in sorted(a + b):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def complement(a: Intervals) -> Intervals:
    out, nxt = [], 0
    for lo, hi in union(a, []):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_CODEPOINT:
        out.append((nxt, MAX_CODEPOINT))
    return out


def intersect(a: Intervals, b: Intervals) -> Intervals:
    return complement(union(complement(a), complement(b)))


def difference(a: Intervals, b: Intervals) -> Intervals:
    return intersect(a, complement(b))


def symmetric_difference(a: Intervals, b: Intervals) -> Intervals:
    return union(difference(a, b), difference(b, a))


def scalar_values(a: Intervals) -> Intervals:
    """`a` without the surrogates, which no text (valid UTF-8) can hold."""
    return difference(a, [SURROGATES])


@functools.cache
def _every_scalar() -> str:
    """Every Unicode scalar value once, in order (surrogates left out)."""
    codes = np.arange(MAX_CODEPOINT + 1, dtype=np.uint32)
    codes = codes[(codes < SURROGATES[0]) | (codes > SURROGATES[1])]
    return codes.astype("<u4").tobytes().decode("utf-32-le")


def _code_point(index: int) -> int:
    return index if index < SURROGATES[0] else index + SURROGATES[1] - SURROGATES[0] + 1


def _runs(spans: list[tuple[int, int]]) -> Intervals:
    """Code point intervals of match spans over `_every_scalar()`."""
    return union([(_code_point(start), _code_point(end - 1)) for start, end in spans], [])


@functools.lru_cache(maxsize=512)
def property_intervals(query: str) -> tuple[tuple[int, int], ...]:
    """The code points of `\\p{query}` (a name the `regex` module knows), scanned once."""
    found = regex.finditer("[\\p{" + query + "}]+", _every_scalar(), flags=regex.V1)
    return tuple(_runs([m.span() for m in found]))


@functools.lru_cache(maxsize=8)
def perl_intervals(letter: str, unicode: bool) -> tuple[tuple[int, int], ...]:
    """`\\d`, `\\s`, `\\w` or their negations: Unicode-aware, or ASCII under `(?-u)`."""
    base = letter.lower()
    if unicode:
        found = regex.finditer(f"[\\{base}]+", _every_scalar(), flags=regex.V1)
        positive = _runs([m.span() for m in found])
    else:
        positive = ASCII_PERL[base]
    return tuple(complement(positive) if letter.isupper() else positive)


def class_text(a: Intervals) -> str:
    """`a` as a bracketed class that RE2 and the `regex` module (V1) read alike."""
    ranges = scalar_values(a)
    return "[" + "".join(_range_text(lo, hi) for lo, hi in ranges) + "]"


def char_text(code: int) -> str:
    """One code point as pattern text both engines read as that literal, in a class or not."""
    c = chr(code)
    if c.isascii():
        return c if c.isalnum() else f"\\x{code:02x}"
    return c


def _range_text(lo: int, hi: int) -> str:
    return char_text(lo) if lo == hi else f"{char_text(lo)}-{char_text(hi)}"


def case_folded(a: Intervals) -> Intervals:
    """`a` closed under simple case folding: every code point whose fold orbit meets `a`."""
    if not a:
        return a
    options = re2.Options()
    options.log_errors = False
    folded = re2.compile("(?i)" + class_text(a) + "+", options)
    return union(a, _runs([m.span() for m in folded.finditer(_every_scalar())]))


@functools.cache
def non_ascii_word() -> re2._Regexp:
    """RE2 search for a non-ASCII word character (where RE2's ASCII `\\b` stops being exact)."""
    options = re2.Options()
    options.log_errors = False
    unicode_word = list(perl_intervals("w", True))
    return re2.compile(class_text(difference(unicode_word, [(0, 127)])), options)
