"""Chroma's `$regex` dialect (Rust's `regex` crate), run by RE2 in linear time.

Chroma evaluates `$regex` with Rust's `regex` crate, whose syntax differs from Python's:
`$` matches only at the very end, `\\z` ends the text, POSIX classes are ASCII, classes nest
and combine with `&&`, `--` and `~~`, repetitions nest (`a**`), and look-around and
backreferences are refused. `translate` parses a pattern with the crate's grammar and raises
`RegexSyntaxError` with the crate's own message (caret notation included).

A valid pattern runs on RE2, which like the crate is an automaton engine: no backtracking, so
a search takes time linear in the length of the document, whatever the pattern. What RE2's
syntax lacks is computed here: every class (set operations, nested classes, Unicode
properties, Unicode `\\w`/`\\d`/`\\s`, case folding) becomes explicit code point ranges
(`achroma.emulation.unicode_sets`), flags and `(?x)` are applied while parsing, and counted
repetitions past RE2's limit of 1000 are unrolled. Two constructs RE2 cannot express fall back
to the backtracking `regex` module (V1): the crate's `\\b{start}`, `\\b{end}`, `\\<`, `\\>` and
half boundaries always, the Unicode `\\b` on a document holding non-ASCII word characters
(RE2's `\\b` is ASCII; on other documents the two agree), and `\\B` on a non-ASCII document
(RE2's also holds between the bytes of one character); the fallback has a time budget per
document (`RegexTimeout` past it), so a catastrophic pattern fails instead of stalling.
Known gaps:
`\\p{age=...}` and the `R` (CRLF) flag for `^`/`$` are not translated.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Literal, NoReturn

import re2
import regex

from achroma.emulation.unicode_sets import (
    MAX_CODEPOINT,
    Intervals,
    case_folded,
    char_text,
    class_text,
    complement,
    difference,
    intersect,
    non_ascii_word,
    perl_intervals,
    property_intervals,
    symmetric_difference,
    union,
)

NEST_LIMIT = 250
META = set("\\.+*?()|[]{}^$#&-~")
PERL_CLASSES = set("dswDSW")
SPECIAL_ESCAPES = {"a": "\x07", "f": "\x0c", "t": "\t", "n": "\n", "r": "\r", "v": "\x0b"}
HEX_DIGITS = {"x": 2, "u": 4, "U": 8}
FLAGS = set("imsUuxR")
POSIX = {
    "alnum": [(48, 57), (65, 90), (97, 122)],
    "alpha": [(65, 90), (97, 122)],
    "ascii": [(0, 127)],
    "blank": [(9, 9), (32, 32)],
    "cntrl": [(0, 31), (127, 127)],
    "digit": [(48, 57)],
    "graph": [(33, 126)],
    "lower": [(97, 122)],
    "print": [(32, 126)],
    "punct": [(33, 47), (58, 64), (91, 96), (123, 126)],
    "space": [(9, 13), (32, 32)],
    "upper": [(65, 90)],
    "word": [(48, 57), (65, 90), (95, 95), (97, 122)],
    "xdigit": [(48, 57), (65, 70), (97, 102)],
}
VALUE_PROPERTIES = {
    "generalcategory", "gc", "script", "sc", "scriptextensions", "scx",
    "age", "graphemeclusterbreak", "gcb", "wordbreak", "wb", "sentencebreak", "sb",
}  # fmt: skip
# Names the `regex` module knows and the crate does not (UTS #18's POSIX-compatible ones).
NOT_PROPERTIES = {"word", "alnum", "blank", "graph", "print", "xdigit"} | {
    "posix" + n for n in ("alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower",
                          "print", "punct", "space", "upper", "word", "xdigit")
}  # fmt: skip
BYTE_PATTERN = "Byte pattern is not allowed"
# RE2 refuses a counted repetition whose bound, times those of the repetitions around it,
# exceeds this.
RE2_MAX_REPEAT = 1000
# RE2's budget for one compiled pattern (its program and its DFA caches; past the cache it
# switches to its NFA, still linear) when its default of 8 MiB cannot hold the program.
RE2_MAX_MEM = 64 << 20
# Past this many instructions (the crate refuses `(a{1000}){1000}`, a million), RE2's DFA cache
# cannot hold a state and its NFA pays the program's size at every character.
RE2_MAX_PROGRAM = 300_000

Engine = Literal["re2", "regex"]


class RegexSyntaxError(ValueError):
    """A pattern Chroma's regex engine refuses; the message is the one Chroma reports."""


class RegexTimeout(ValueError):
    """A pattern that only the backtracking fallback runs took longer than its budget."""


# The backtracking fallback's time budget per document: a base plus a share per character,
# so a linear search of a long document finishes while a catastrophic one is cut off.
FALLBACK_BUDGET_SECS = 0.25
FALLBACK_BUDGET_PER_CHAR_SECS = 2e-7


class _NotInRe2(Exception):
    """The pattern uses a construct RE2 cannot express."""


def translate(pattern: str, engine: Engine = "re2") -> str:
    """The RE2 (or `regex`-module V1) equivalent of a Rust-dialect `pattern`.

    For RE2, the Unicode `\\b`/`\\B` become RE2's ASCII ones (exact on documents without
    non-ASCII word characters); raises `ValueError` for the boundaries RE2 cannot express.
    """
    try:
        return _Parser(pattern, engine).parse()
    except _NotInRe2:
        _Parser(pattern, "regex").parse()  # the crate's error, if the rest is invalid
        raise ValueError(f"RE2 cannot express {pattern!r}") from None


class RustRegex:
    """A compiled Rust-dialect pattern; `is_match` is an unanchored search, as `$regex`'s."""

    __slots__ = ("_re2", "_re2_needs_ascii_words", "_re2_needs_ascii", "_pattern", "_fallback")

    def __init__(self, pattern: str) -> None:
        self._pattern = pattern
        self._re2: re2._Regexp | None = None
        self._re2_needs_ascii_words = False
        self._re2_needs_ascii = False
        self._fallback: regex.Pattern[str] | None = None
        parser = _Parser(pattern, "re2")
        try:
            text = parser.parse()
        except _NotInRe2:
            _Parser(pattern, "regex").parse()
            return
        compiled = _re2_compiled(text)
        if compiled is None or compiled.programsize > RE2_MAX_PROGRAM:
            return  # too large for RE2: the `regex` module runs it
        self._re2 = compiled
        self._re2_needs_ascii_words = parser.unicode_boundary
        self._re2_needs_ascii = parser.not_boundary

    def is_match(self, text: str) -> bool:
        if self._re2 is not None and self._re2_is_exact_on(text):
            return self._re2.search(text) is not None
        if self._fallback is None:
            self._fallback = regex.compile(translate(self._pattern, "regex"), regex.V1)
        budget = FALLBACK_BUDGET_SECS + len(text) * FALLBACK_BUDGET_PER_CHAR_SECS
        try:
            return self._fallback.search(text, timeout=budget) is not None
        except TimeoutError:
            raise RegexTimeout(
                f"$regex {self._pattern!r} took longer than {budget:.2f} s on one document: "
                "with word boundaries on non-ASCII text it runs on a backtracking engine; "
                "simplify the pattern (nested alternatives under repetition backtrack)"
            ) from None

    def _re2_is_exact_on(self, text: str) -> bool:
        if text.isascii() or not (self._re2_needs_ascii or self._re2_needs_ascii_words):
            return True
        return not self._re2_needs_ascii and non_ascii_word().search(text) is None


def _re2_compiled(text: str) -> re2._Regexp | None:
    """`text` compiled by RE2 within its default budget, or the larger one if it needs it."""
    options = re2.Options()
    options.log_errors = False
    options.never_capture = True
    for max_mem in (options.max_mem, RE2_MAX_MEM):
        options.max_mem = max_mem
        try:
            return re2.compile(text, options)
        except re2.error:
            continue
    return None


@functools.lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> RustRegex:
    """`pattern` (Rust dialect) compiled for searching, cached."""
    return RustRegex(pattern)


# --- errors in the crate's notation ---


def _notated(pattern: str, spans: list[tuple[int, int]], message: str) -> str:
    def line_col(offset: int) -> tuple[int, int]:
        before = pattern[:offset]
        return before.count("\n"), offset - (before.rfind("\n") + 1)

    lines = pattern.split("\n")
    multiline = "\n" in pattern
    width = len(str(len(lines))) if multiline else 0
    carets: dict[int, list[tuple[int, int]]] = {}
    notes = []
    for start, end in sorted(spans):
        (l1, c1), (l2, c2) = line_col(start), line_col(end)
        if l1 == l2:
            carets.setdefault(l1, []).append((c1, c2))
        else:
            notes.append(f"on line {l1 + 1} (column {c1 + 1}) through line {l2 + 1} (column {c2})")
    if pattern.endswith("\n"):
        lines = lines[:-1]
    out = ["regex parse error:\n"]
    divider = "~" * 79 + "\n"
    if multiline:
        out.append(divider)
    for number, line in enumerate(lines):
        out.append(f"{number + 1:>{width}}: {line}\n" if multiline else f"    {line}\n")
        if number in carets:
            note, pos = " " * (width + 2 if multiline else 4), 0
            for c1, c2 in carets[number]:
                note += " " * max(0, c1 - pos) + "^" * max(1, c2 - c1)
                pos = max(pos, c1) + max(1, c2 - c1)
            out.append(note + "\n")
    if multiline:
        out.append(divider)
        out.extend(note + "\n" for note in notes)
    out.append(f"error: {message}")
    return "".join(out)


# --- character classes, as code point intervals ---

_SET_OPS: dict[str, Callable[[Intervals, Intervals], Intervals]] = {
    "&&": intersect,
    "--": difference,
    "~~": symmetric_difference,
}


# A translated piece of a concatenation: (kind, text, weight); kinds: atom, flags. The weight
# is the product of the counted-repetition bounds nested in the text, which RE2 limits.
_Piece = tuple[str, str, int]


class _Parser:
    def __init__(self, pattern: str, engine: Engine) -> None:
        self.p = pattern
        self.i = 0
        self.engine = engine
        self.unicode_boundary = False  # RE2's ASCII \b stands for a Unicode one
        self.not_boundary = False  # RE2's \B, which also holds inside a UTF-8 sequence
        self.flags = {
            "i": False,
            "m": False,
            "s": False,
            "U": False,
            "u": True,
            "x": False,
            "R": False,
        }
        self.names: dict[str, tuple[int, int]] = {}
        self.depth = 0

    # --- cursor ---
    def eof(self) -> bool:
        return self.i >= len(self.p)

    def char(self) -> str:
        return self.p[self.i] if self.i < len(self.p) else ""

    def peek(self) -> str:
        return self.p[self.i + 1] if self.i + 1 < len(self.p) else ""

    def bump(self) -> bool:
        if self.eof():
            return False
        self.i += 1
        return not self.eof()

    def bump_space(self) -> None:
        if not self.flags["x"]:
            return
        while not self.eof():
            c = self.char()
            if c.isspace():
                self.i += 1
            elif c == "#":
                while not self.eof():
                    self.i += 1
                    if self.p[self.i - 1] == "\n":
                        break
            else:
                return

    def bump_and_bump_space(self) -> bool:
        if not self.bump():
            return False
        self.bump_space()
        return not self.eof()

    def peek_space(self) -> str:
        j = self.i + 1
        if self.flags["x"]:
            while j < len(self.p) and (self.p[j].isspace() or self.p[j] == "#"):
                if self.p[j] == "#":
                    while j < len(self.p) and self.p[j] != "\n":
                        j += 1
                j += 1
        return self.p[j] if j < len(self.p) else ""

    def error(
        self, start: int, end: int, message: str, aux: tuple[int, int] | None = None
    ) -> NoReturn:
        spans = [(start, end)] + ([aux] if aux else [])
        raise RegexSyntaxError(_notated(self.p, spans, message))

    def nest(self, start: int) -> None:
        self.depth += 1
        if self.depth > NEST_LIMIT:
            self.error(
                start,
                start + 1,
                f"exceed the maximum number of nested parentheses/brackets ({NEST_LIMIT})",
            )

    # --- grammar ---
    def parse(self) -> str:
        body, _ = self.parse_alternation(open_at=None)
        # The crate folds case simply (`(?i)ß` is not `SS`); V1 would fold fully.
        return f"(?-f:{body})" if self.engine == "regex" else body

    def parse_alternation(self, open_at: int | None) -> tuple[str, int]:
        branches: list[_Piece] = []
        items: list[_Piece] = []
        while True:
            self.bump_space()
            if self.eof():
                if open_at is not None:
                    self.error(open_at, open_at + 1, "unclosed group")
                break
            c = self.char()
            if c == ")":
                if open_at is None:
                    self.error(self.i, self.i + 1, "unopened group")
                self.i += 1
                break
            if c == "|":
                branches.append(self.concat(items))
                items = []
                self.i += 1
            elif c == "(":
                items.append(self.parse_group())
            elif c in "?*+":
                self.repeat(items, c)
            elif c == "{":
                self.counted_repeat(items)
            elif c == "[":
                items.append(("atom", self.parse_class(), 1))
            else:
                items.append(("atom", self.parse_primitive(), 1))
        branches.append(self.concat(items))
        return "|".join(text for _, text, _ in branches), max(w for _, _, w in branches)

    @staticmethod
    def concat(items: list[_Piece]) -> _Piece:
        atoms = [(text, weight) for kind, text, weight in items if kind == "atom"]
        return "atom", "".join(text for text, _ in atoms), max((w for _, w in atoms), default=1)

    def repeat(self, items: list[_Piece], op: str) -> None:
        if not items or items[-1][0] != "atom":
            self.error(self.i, self.i + 1, "repetition operator missing expression")
        greedy = True
        if self.bump() and self.char() == "?":
            greedy = False
            self.i += 1
        self.apply_repeat(items, op, greedy)

    def apply_repeat(
        self, items: list[_Piece], op: str, greedy: bool, bounds: tuple[int, int | None] = (0, 0)
    ) -> None:
        if self.flags["U"]:
            greedy = not greedy
        lazy = "" if greedy else "?"
        _, text, weight = items[-1]
        low, high = bounds
        bound = max(1, low if high is None else high)
        if op in "?*+":
            items[-1] = ("atom", f"(?:{text}){op}{lazy}", weight)
        elif self.engine == "regex" or weight * bound <= RE2_MAX_REPEAT:
            items[-1] = ("atom", f"(?:{text}){op}{lazy}", weight * bound)
        else:
            items[-1] = ("atom", *self.unrolled(text, weight, low, high))

    @staticmethod
    def unrolled(text: str, weight: int, low: int, high: int | None) -> tuple[str, int]:
        """`text{low,high}` as a sequence of repetitions within RE2's limit.

        Greed is dropped: `$regex` only asks whether there is a match, and the sequence
        matches the same strings.
        """
        chunk = RE2_MAX_REPEAT // weight
        full, rest = divmod(low, chunk)
        parts = [f"(?:{text}){{{chunk}}}"] * full + ([f"(?:{text}){{{rest}}}"] if rest else [])
        if high is None:
            parts.append(f"(?:{text})*")
        else:
            full, rest = divmod(high - low, chunk)
            parts += [f"(?:{text}){{0,{chunk}}}"] * full
            parts += [f"(?:{text}){{0,{rest}}}"] if rest else []
        return "(?:" + "".join(parts) + ")", weight * chunk

    def counted_repeat(self, items: list[_Piece]) -> None:
        start = self.i
        if not items or items[-1][0] != "atom":
            self.error(self.i, self.i + 1, "repetition operator missing expression")
        if not self.bump_and_bump_space():
            self.error(start, self.i, "unclosed counted repetition")
        low = self.decimal()
        high: int | None = low
        if self.eof():
            self.error(start, self.i, "unclosed counted repetition")
        if self.char() == ",":
            if not self.bump_and_bump_space():
                self.error(start, self.i, "unclosed counted repetition")
            high = None if self.char() == "}" else self.decimal()
        if self.eof() or self.char() != "}":
            self.error(start, self.i, "unclosed counted repetition")
        self.i += 1
        if high is not None and low > high:
            self.error(
                start, self.i, "invalid repetition count range, the start must be <= the end"
            )
        greedy = True
        if self.char() == "?":
            greedy = False
            self.i += 1
        bounds = str(low) if high == low else f"{low},{'' if high is None else high}"
        self.apply_repeat(items, "{" + bounds + "}", greedy, (low, high))

    def decimal(self) -> int:
        while not self.eof() and self.char().isspace():
            self.i += 1
        start = self.i
        digits = ""
        while not self.eof() and "0" <= self.char() <= "9":
            digits += self.char()
            self.bump_and_bump_space()
        end = self.i
        while not self.eof() and self.char().isspace():
            self.bump_and_bump_space()
        if not digits:
            self.error(start, end, "repetition quantifier expects a valid decimal")
        if int(digits) > 0xFFFFFFFF:
            self.error(start, end, "decimal literal invalid")
        return int(digits)

    def parse_group(self) -> _Piece:
        open_at = self.i
        self.nest(open_at)
        self.i += 1
        for prefix in ("?=", "?!", "?<=", "?<!"):
            if self.p.startswith(prefix, self.i):
                self.error(
                    open_at,
                    self.i + len(prefix),
                    "look-around, including look-ahead and look-behind, is not supported",
                )
        saved = dict(self.flags)
        if self.p.startswith("?P<", self.i) or self.p.startswith("?<", self.i):
            self.i += 3 if self.p[self.i + 1] == "P" else 2
            self.capture_name()
        elif self.char() == "?":
            inner = self.i
            self.i += 1
            if self.eof():
                self.error(open_at, open_at + 1, "unclosed group")
            changes = self.parse_flags()
            end = self.char()
            self.i += 1
            if end == ")":
                if not changes:
                    self.error(inner, inner + 1, "repetition operator missing expression")
                self.flags.update(changes)
                self.depth -= 1
                return ("flags", "", 1)
            self.flags.update(changes)
        body, weight = self.parse_alternation(open_at)
        self.flags = saved
        self.depth -= 1
        return ("atom", f"(?:{body})", weight)

    def capture_name(self) -> None:
        if self.eof():
            self.error(self.i, self.i, "unclosed capture group name")
        start = self.i
        while not self.eof() and self.char() != ">":
            c = self.char()
            first = self.i == start
            if not (c == "_" or c.isalpha() or (not first and (c.isdigit() or c in ".[]"))):
                self.error(self.i, self.i + 1, "invalid capture group character")
            self.i += 1
        end = self.i
        if self.eof():
            self.error(end, end, "unclosed capture group name")
        self.i += 1
        name = self.p[start:end]
        if not name:
            self.error(start, start, "empty capture group name")
        if name in self.names:
            self.error(start, end, "duplicate capture group name", aux=self.names[name])
        self.names[name] = (start, end)

    def parse_flags(self) -> dict[str, bool]:
        changes: dict[str, bool] = {}
        seen: dict[str, int] = {}
        negated = False
        last_negation: int | None = None
        while self.char() not in (":", ")"):
            c, at = self.char(), self.i
            if c == "-":
                if "-" in seen:
                    self.error(
                        at,
                        at + 1,
                        "flag negation operator repeated",
                        aux=(seen["-"], seen["-"] + 1),
                    )
                seen["-"] = at
                negated, last_negation = True, at
            else:
                if c not in FLAGS:
                    self.error(at, at + 1, "unrecognized flag")
                if c in seen:
                    self.error(at, at + 1, "duplicate flag", aux=(seen[c], seen[c] + 1))
                seen[c] = at
                last_negation = None
                changes[c] = not negated
            if not self.bump():
                self.error(self.i, self.i, "expected flag but got end of regex")
        if last_negation is not None:
            self.error(last_negation, last_negation + 1, "dangling flag negation operator")
        return changes

    def parse_primitive(self) -> str:
        c, start = self.char(), self.i
        if c == "\\":
            return self.escape_outside_class()
        self.i += 1
        if c == ".":
            if not self.flags["u"]:
                self.error(start, self.i, "pattern can match invalid UTF-8")
            if self.flags["s"]:
                return "(?s:.)"
            return "[^\\r\\n]" if self.flags["R"] else "[^\\n]"
        if c == "^":
            return "(?m:^)" if self.flags["m"] else "\\A"
        if c == "$":
            return "(?m:$)" if self.flags["m"] else "\\z"
        return self.literal(c, start)

    def literal(self, c: str, start: int, hex_escape: bool = False) -> str:
        if not self.flags["u"]:
            if hex_escape and ord(c) > 127:  # a raw byte, not a UTF-8 encoded char
                self.error(start, self.i, "pattern can match invalid UTF-8")
            if self.flags["i"] and c.lower() != c.upper():
                raise RegexSyntaxError(BYTE_PATTERN)
        text = char_text(ord(c))
        return f"(?i:{text})" if self.flags["i"] and c.lower() != c.upper() else text

    def escape_outside_class(self) -> str:
        start = self.i
        kind, value = self.escape()
        if not isinstance(value, str):  # a Unicode class
            return class_text(value)
        if kind in ("literal", "hex"):
            return self.literal(value, start, hex_escape=kind == "hex")
        if kind == "perl":
            if not self.flags["u"]:
                raise RegexSyntaxError(BYTE_PATTERN)
            return class_text(list(perl_intervals(value, True)))
        return self.assertion(value)

    def assertion(self, name: str) -> str:
        ascii_only = not self.flags["u"]
        if name in ("A", "z"):
            return "\\" + name
        if self.engine == "re2":
            if name not in ("b", "B"):
                raise _NotInRe2(name)
            self.unicode_boundary = self.unicode_boundary or not ascii_only
            self.not_boundary = self.not_boundary or name == "B"
            return "\\" + name
        text = {
            "b": "\\b",
            "B": "\\B",
            "start": "\\m",
            "end": "\\M",
            "start-half": "(?<!\\w)",
            "end-half": "(?!\\w)",
        }[name]
        return f"(?a:{text})" if ascii_only else text

    def escape(self) -> tuple[str, str | Intervals]:
        """Parse one escape; returns (kind, value): literal, perl, unicode (with its
        intervals) or assertion."""
        start = self.i
        if not self.bump():
            self.error(
                start, self.i, "incomplete escape sequence, reached end of pattern prematurely"
            )
        c = self.char()
        if c.isdigit() and c.isascii():
            self.error(start, self.i + 1, "backreferences are not supported")
        if c in HEX_DIGITS:
            return "hex", self.hex(HEX_DIGITS[c])
        if c in "pP":
            return "unicode", self.unicode_class(start)
        if c in PERL_CLASSES:
            self.i += 1
            return "perl", c
        self.i += 1
        if c in META or (c.isascii() and not c.isalnum() and c not in "<>"):
            return "literal", c
        if c in SPECIAL_ESCAPES:
            return "literal", SPECIAL_ESCAPES[c]
        if c in "AzB":
            return "assertion", c
        if c == "<":
            return "assertion", "start"
        if c == ">":
            return "assertion", "end"
        if c == "b":
            return "assertion", self.word_boundary(start)
        self.error(start, self.i, "unrecognized escape sequence")

    def word_boundary(self, start: int) -> str:
        if self.char() != "{":
            return "b"
        brace = self.i
        if not self.bump_and_bump_space():
            self.error(
                start,
                self.i,
                "found either the beginning of a special word boundary or a bounded repetition "
                "on a \\b with an opening brace, but no closing brace",
            )
        contents = self.i
        if not (self.char().isascii() and (self.char().isalpha() or self.char() == "-")):
            self.i = brace  # a counted repetition of \b
            return "b"
        name = ""
        while (
            not self.eof()
            and self.char().isascii()
            and (self.char().isalpha() or self.char() == "-")
        ):
            name += self.char()
            self.bump_and_bump_space()
        if self.eof() or self.char() != "}":
            self.error(
                brace,
                self.i,
                "special word boundary assertion is either unclosed or contains an invalid "
                "character",
            )
        end = self.i
        self.i += 1
        if name not in ("start", "end", "start-half", "end-half"):
            self.error(
                contents,
                end,
                "unrecognized special word boundary assertion, valid choices are: start, end, "
                "start-half or end-half",
            )
        return name

    def hex(self, digits: int) -> str:
        if not self.bump_and_bump_space():
            self.error(
                self.i, self.i, "incomplete escape sequence, reached end of pattern prematurely"
            )
        if self.char() == "{":
            brace = self.i
            start = self.i + 1
            text = ""
            while self.bump_and_bump_space() and self.char() != "}":
                if self.char() not in "0123456789abcdefABCDEF":
                    self.error(self.i, self.i + 1, "invalid hexadecimal digit")
                text += self.char()
            if self.eof():
                self.error(
                    brace, self.i, "incomplete escape sequence, reached end of pattern prematurely"
                )
            end = self.i
            self.bump_and_bump_space()
            if not text:
                self.error(brace, self.i, "hexadecimal literal empty")
        else:
            start = self.i
            text = ""
            for n in range(digits):
                if n > 0 and not self.bump_and_bump_space():
                    self.error(
                        self.i,
                        self.i,
                        "incomplete escape sequence, reached end of pattern prematurely",
                    )
                if self.char() not in "0123456789abcdefABCDEF":
                    self.error(self.i, self.i + 1, "invalid hexadecimal digit")
                text += self.char()
            self.bump_and_bump_space()
            end = self.i
        value = int(text, 16) if len(text) <= 8 else MAX_CODEPOINT + 1
        if value > MAX_CODEPOINT or 0xD800 <= value <= 0xDFFF:
            self.error(start, end, "hexadecimal literal is not a Unicode scalar value")
        return chr(value)

    def unicode_class(self, start: int) -> Intervals:
        negated = self.char() == "P"
        if not self.bump_and_bump_space():
            self.error(
                self.i, self.i, "incomplete escape sequence, reached end of pattern prematurely"
            )
        if self.char() == "{":
            name = ""
            while self.bump_and_bump_space() and self.char() != "}":
                name += self.char()
            if self.eof():
                self.error(
                    self.i, self.i, "incomplete escape sequence, reached end of pattern prematurely"
                )
            self.i += 1
        else:
            name = self.char()
            self.bump_and_bump_space()
        if (
            not name.isascii()
            or not name.strip()
            or any(not (c.isalnum() or c in " _-.=:!") for c in name)
        ):
            self.error(start, self.i, "Unicode property not found")
        if not self.flags["u"]:
            self.error(start, self.i, "Unicode not allowed here")
        query, flip = self.property(name)
        if _normalized(name) in NOT_PROPERTIES:
            self.error(start, self.i, "Unicode property not found")
        text = ("\\P{" if negated != flip else "\\p{") + query + "}"
        try:
            regex.compile(text, regex.V1)
        except regex.error:
            prop = _normalized(name.partition("=")[0]) if "=" in name else ""
            message = "Unicode property value not found" if prop in VALUE_PROPERTIES else None
            self.error(start, self.i, message or "Unicode property not found")
        # The crate folds a property's class before negating it.
        found = self.folded(list(property_intervals(query)))
        return complement(found) if negated != flip else found

    def folded(self, cls: Intervals) -> Intervals:
        return case_folded(cls) if self.flags["i"] else cls

    @staticmethod
    def property(name: str) -> tuple[str, bool]:
        """The `regex` module's name for a property query, and whether it is negated (`!=`)."""
        for sep in ("!=", ":", "="):
            if sep in name:
                prop, _, value = name.partition(sep)
                return f"{_normalized(prop)}={_normalized(value)}", sep == "!="
        return _normalized(name), False

    # --- character classes ---
    def parse_class(self) -> str:
        cls = self.class_set()
        # Chroma refuses classes the crate compiles to bytes: empty ones, and any class
        # without Unicode mode except one that reduces to a single ASCII char.
        single_ascii = len(cls) == 1 and cls[0][0] == cls[0][1] < 128
        if not cls or (not self.flags["u"] and not (single_ascii and not self.flags["i"])):
            raise RegexSyntaxError(BYTE_PATTERN)
        return class_text(cls)

    def class_set(self) -> Intervals:
        """Parse `[...]` starting at `[`, nested classes and set operations included."""
        start = self.i
        self.nest(start)
        if not self.bump_and_bump_space():
            self.error(start, self.i, "unclosed character class")
        negated = False
        if self.char() == "^":
            negated = True
            if not self.bump_and_bump_space():
                self.error(start, self.i, "unclosed character class")
        items: list[Intervals] = []
        while self.char() == "-":
            items.append(self.literal_set("-"))
            if not self.bump_and_bump_space():
                self.error(start, start, "unclosed character class")
        if not items and self.char() == "]":
            items.append(self.literal_set("]"))
            if not self.bump_and_bump_space():
                self.error(start, self.i, "unclosed character class")
        open_end = self.i
        lhs: Intervals | None = None
        op = ""
        while True:
            self.bump_space()
            if self.eof():
                self.error(start, open_end, "unclosed character class")
            c = self.char()
            if c == "[":
                posix = self.posix_class()
                items.append(posix if posix is not None else self.class_set())
            elif c == "]":
                self.i += 1
                result = self.combine(lhs, op, self.union(items))
                self.depth -= 1
                folded = [] if result is None else self.folded(result)
                return complement(folded) if negated else folded
            elif c in "&-~" and self.peek() == c:
                self.i += 2
                lhs, op, items = self.combine(lhs, op, self.union(items)), c * 2, []
            else:
                items.append(self.class_range())

    def posix_class(self) -> Intervals | None:
        end = self.p.find(":]", self.i + 2)
        if not self.p.startswith("[:", self.i) or end < 0:
            return None
        name = self.p[self.i + 2 : end]
        negated = name.startswith("^")
        ranges = POSIX.get(name[1:] if negated else name)
        if ranges is None:
            return None
        self.i = end + 2
        return complement(ranges) if negated else ranges

    def class_range(self) -> Intervals:
        first_start = self.i
        first = self.class_item()
        self.bump_space()
        if self.eof():
            return first[1]
        if self.char() != "-" or self.peek_space() in ("]", "-"):
            return first[1]
        if not self.bump_and_bump_space():
            return first[1]  # the loop reports the unclosed class
        second_start = self.i
        second = self.class_item()
        if first[0] is None:
            self.error(first_start, first[2], "invalid range boundary, must be a literal")
        if second[0] is None:
            self.error(second_start, second[2], "invalid range boundary, must be a literal")
        lo, hi = ord(first[0]), ord(second[0])
        if lo > hi:
            self.error(
                first_start,
                second[2],
                "invalid character class range, the start must be <= the end",
            )
        return [(lo, hi)]

    def class_item(self) -> tuple[str | None, Intervals, int]:
        """One class item: (its literal char or None, its set, where it ends)."""
        start = self.i
        if self.char() != "\\":
            c = self.char()
            self.i += 1
            return c, self.literal_set(c), self.i
        kind, value = self.escape()
        if not isinstance(value, str):  # a Unicode class
            return None, value, self.i
        if kind in ("literal", "hex"):
            return value, self.literal_set(value), self.i
        if kind == "perl":
            return None, list(perl_intervals(value, self.flags["u"])), self.i
        self.error(start, self.i, "invalid escape sequence found in character class")

    @staticmethod
    def literal_set(c: str) -> Intervals:
        return [(ord(c), ord(c))]

    @staticmethod
    def union(items: list[Intervals]) -> Intervals | None:
        if not items:
            return None
        merged: Intervals = []
        for item in items:
            merged = union(merged, item)
        return merged

    def combine(self, lhs: Intervals | None, op: str, rhs: Intervals | None) -> Intervals | None:
        if not op:
            return rhs
        if lhs is None or rhs is None:
            if op == "&&":
                return []
            return lhs if rhs is None else rhs if op == "~~" else lhs
        # The crate folds both operands before combining them.
        return _SET_OPS[op](self.folded(lhs), self.folded(rhs))


def _normalized(name: str) -> str:
    """Unicode's loose matching of property names (UAX44-LM3), as the crate applies it."""
    out = "".join(c for c in name if not (c.isspace() or c in "_-")).lower()
    return out[2:] if out.startswith("is") and len(out) > 2 else out
