"""Oracle for tests: the `$regex` translation to the `regex` module (V1) as it was before
RE2 ran `$regex` (achroma.emulation.rust_regex at commit d90eb17, unchanged), so that
tests/test_regex_equivalence.py can check the RE2 translation means the same thing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn

import regex

MAX_CODEPOINT = 0x10FFFF
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


class RegexSyntaxError(ValueError):
    """A pattern Chroma's regex engine refuses; the message is the one Chroma reports."""


def translate(pattern: str) -> str:
    """The `regex`-module (V1) equivalent of a Rust-dialect `pattern`."""
    return _Parser(pattern).parse()


@functools.lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> regex.Pattern[str]:
    """`pattern` (Rust dialect) compiled for searching, cached."""
    return regex.compile(translate(pattern), regex.V1)


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


# --- character-class sets, as code point intervals where they are known ---

Intervals = list[tuple[int, int]]


def _union(a: Intervals, b: Intervals) -> Intervals:
    merged: Intervals = []
    for lo, hi in sorted(a + b):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _complement(a: Intervals) -> Intervals:
    out, nxt = [], 0
    for lo, hi in _union(a, []):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_CODEPOINT:
        out.append((nxt, MAX_CODEPOINT))
    return out


def _intersect(a: Intervals, b: Intervals) -> Intervals:
    return _complement(_union(_complement(a), _complement(b)))


def _difference(a: Intervals, b: Intervals) -> Intervals:
    return _intersect(a, _complement(b))


@dataclass
class _Set:
    """A class expression: its V1 text (a bracketed set) and its intervals when known."""

    text: str
    known: Intervals | None = field(default_factory=list)

    def empty(self) -> bool:
        return self.known is not None and not self.known


_SET_OPS: dict[str, Callable[[Intervals, Intervals], Intervals]] = {
    "&&": _intersect,
    "--": _difference,
    "~~": lambda a, b: _union(_difference(a, b), _difference(b, a)),
}


def _set_char(c: str) -> str:
    return c if c.isascii() and c.isalnum() else f"\\U{ord(c):08x}"


def _interval_text(lo: int, hi: int) -> str:
    first = _set_char(chr(lo))
    return first if lo == hi else f"{first}-{_set_char(chr(hi))}"


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0
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
        body = self.parse_alternation(open_at=None)
        return f"(?-f:{body})"

    def parse_alternation(self, open_at: int | None) -> str:
        branches = []
        items: list[tuple[str, str]] = []  # (kind, text); kinds: atom, flags
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
                items.append(("atom", self.parse_class()))
            else:
                items.append(("atom", self.parse_primitive()))
        branches.append(self.concat(items))
        return "|".join(branches)

    @staticmethod
    def concat(items: list[tuple[str, str]]) -> str:
        return "".join(text for kind, text in items if kind == "atom")

    def repeat(self, items: list[tuple[str, str]], op: str) -> None:
        if not items or items[-1][0] != "atom":
            self.error(self.i, self.i + 1, "repetition operator missing expression")
        greedy = True
        if self.bump() and self.char() == "?":
            greedy = False
            self.i += 1
        self.apply_repeat(items, op, greedy)

    def apply_repeat(self, items: list[tuple[str, str]], op: str, greedy: bool) -> None:
        if self.flags["U"]:
            greedy = not greedy
        items[-1] = ("atom", f"(?:{items[-1][1]}){op}{'' if greedy else '?'}")

    def counted_repeat(self, items: list[tuple[str, str]]) -> None:
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
        self.apply_repeat(items, "{" + bounds + "}", greedy)

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

    def parse_group(self) -> tuple[str, str]:
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
                return ("flags", "")
            self.flags.update(changes)
        body = self.parse_alternation(open_at)
        self.flags = saved
        self.depth -= 1
        return ("atom", f"(?:{body})")

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
            return "(?m:$)" if self.flags["m"] else "\\Z"
        return self.literal(c, start)

    def literal(self, c: str, start: int, hex_escape: bool = False) -> str:
        if not self.flags["u"]:
            if hex_escape and ord(c) > 127:  # a raw byte, not a UTF-8 encoded char
                self.error(start, self.i, "pattern can match invalid UTF-8")
            if self.flags["i"] and c.lower() != c.upper():
                raise RegexSyntaxError(BYTE_PATTERN)
        text = regex.escape(c)
        return f"(?i:{text})" if self.flags["i"] and c.lower() != c.upper() else text

    def escape_outside_class(self) -> str:
        start = self.i
        kind, value = self.escape()
        if kind in ("literal", "hex"):
            return self.literal(value, start, hex_escape=kind == "hex")
        if kind == "perl":
            if not self.flags["u"]:
                raise RegexSyntaxError(BYTE_PATTERN)
            return "\\" + value
        if kind == "unicode":
            return f"(?i:{value})" if self.flags["i"] else value
        return self.assertion(value)

    def assertion(self, name: str) -> str:
        ascii_only = not self.flags["u"]
        text = {
            "A": "\\A",
            "z": "\\Z",
            "b": "\\b",
            "B": "\\B",
            "start": "\\m",
            "end": "\\M",
            "start-half": "(?<!\\w)",
            "end-half": "(?!\\w)",
        }[name]
        return f"(?a:{text})" if ascii_only else text

    def escape(self) -> tuple[str, str]:
        """Parse one escape; returns (kind, value): literal, perl, unicode or assertion."""
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

    def unicode_class(self, start: int) -> str:
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
        return text

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
        single_ascii = (
            cls.known is not None
            and len(cls.known) == 1
            and cls.known[0][0] == cls.known[0][1] < 128
        )
        if cls.empty() or (not self.flags["u"] and not (single_ascii and not self.flags["i"])):
            raise RegexSyntaxError(BYTE_PATTERN)
        return f"(?i:{cls.text})" if self.flags["i"] else cls.text

    def class_set(self) -> _Set:
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
        items: list[_Set] = []
        while self.char() == "-":
            items.append(self.literal_set("-"))
            if not self.bump_and_bump_space():
                self.error(start, start, "unclosed character class")
        if not items and self.char() == "]":
            items.append(self.literal_set("]"))
            if not self.bump_and_bump_space():
                self.error(start, self.i, "unclosed character class")
        open_end = self.i
        lhs: _Set | None = None
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
                return self.negate(result) if negated else self.bracket(result)
            elif c in "&-~" and self.peek() == c:
                self.i += 2
                lhs, op, items = self.combine(lhs, op, self.union(items)), c * 2, []
            else:
                items.append(self.class_range())

    def posix_class(self) -> _Set | None:
        end = self.p.find(":]", self.i + 2)
        if not self.p.startswith("[:", self.i) or end < 0:
            return None
        name = self.p[self.i + 2 : end]
        negated = name.startswith("^")
        ranges = POSIX.get(name[1:] if negated else name)
        if ranges is None:
            return None
        self.i = end + 2
        known = _complement(ranges) if negated else ranges
        return _Set("[" + "".join(_interval_text(lo, hi) for lo, hi in known) + "]", known)

    def class_range(self) -> _Set:
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
        return _Set("[" + _interval_text(lo, hi) + "]", [(lo, hi)])

    def class_item(self) -> tuple[str | None, _Set, int]:
        """One class item: (its literal char or None, its set, where it ends)."""
        start = self.i
        if self.char() != "\\":
            c = self.char()
            self.i += 1
            return c, self.literal_set(c), self.i
        kind, value = self.escape()
        if kind in ("literal", "hex"):
            return value, self.literal_set(value), self.i
        if kind == "perl":
            return None, _Set("[\\" + value + "]", None), self.i
        if kind == "unicode":
            return None, _Set("[" + value + "]", None), self.i
        self.error(start, self.i, "invalid escape sequence found in character class")

    @staticmethod
    def literal_set(c: str) -> _Set:
        return _Set("[" + _set_char(c) + "]", [(ord(c), ord(c))])

    @staticmethod
    def union(items: list[_Set]) -> _Set | None:
        if not items:
            return None
        known: Intervals | None = []
        for item in items:
            known = None if known is None or item.known is None else _union(known, item.known)
        if len(items) == 1:
            return items[0]
        return _Set("[" + "".join(item.text for item in items) + "]", known)

    @staticmethod
    def combine(lhs: _Set | None, op: str, rhs: _Set | None) -> _Set | None:
        if not op:
            return rhs
        if lhs is None or rhs is None:
            if op == "&&":
                return _Set("[]", [])
            return lhs if rhs is None else rhs if op == "~~" else lhs
        known = None
        if lhs.known is not None and rhs.known is not None:
            known = _SET_OPS[op](lhs.known, rhs.known)
        elif lhs.empty() and op in ("&&", "--") or rhs.empty() and op == "&&":
            known = []
        return _Set(f"[{lhs.text}{op}{rhs.text}]", known)

    @staticmethod
    def bracket(cls: _Set | None) -> _Set:
        return cls if cls is not None else _Set("[]", [])

    @staticmethod
    def negate(cls: _Set | None) -> _Set:
        if cls is None:
            return _Set("(?s:.)", None)
        known = None if cls.known is None else _complement(cls.known)
        return _Set(f"[^{cls.text}]", known)


def _normalized(name: str) -> str:
    """Unicode's loose matching of property names (UAX44-LM3), as the crate applies it."""
    out = "".join(c for c in name if not (c.isspace() or c in "_-")).lower()
    return out[2:] if out.startswith("is") and len(out) > 2 else out
