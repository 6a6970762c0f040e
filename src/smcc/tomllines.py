"""Line numbers for the keys of a TOML document.

`tomllib` parses TOML but forgets where anything came from, and pydantic reports problems by
location (``("rules", 0, "then", "tier")``), not by line. To print config errors as
``PATH:LINE: key.path: what is wrong`` smcc re-scans the text with the small scanner below, which
records the 1-based line of every key path the document defines, and then maps a pydantic location
to the closest recorded path with `line_of`.

The scanner understands just enough TOML to walk a document that `tomllib` already accepted:
table headers, arrays of tables, dotted and quoted keys, inline tables, arrays, every string form
(so that a ``[x]`` or ``k = v`` inside a string is never taken for a key) and comments. It is not
a validator: on text that is not TOML it never raises, it skips what it does not understand and
returns whatever it found.
"""

from __future__ import annotations

import bisect

KeyPath = tuple[str | int, ...]

_BARE_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_WHITESPACE = " \t\r"  # \r only ever appears as part of \r\n in valid TOML
_SCALAR_END = ",]}#\n"
_MAX_DEPTH = 64  # nesting of arrays / inline tables before the scanner gives up on a value
_ESCAPES = {
    "b": "\b",
    "t": "\t",
    "n": "\n",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    '"': '"',
    "\\": "\\",
}
_HEX_ESCAPE_LENGTHS = {"x": 2, "u": 4, "U": 8}


def key_lines(text: str) -> dict[KeyPath, int]:
    """Map every key path defined in TOML `text` to the 1-based line where it is defined.

    Paths are tuples as pydantic would spell them: table and key names are strings, positions in
    arrays (arrays of tables included) are ints. ``[[rules]]`` twice gives ``("rules", 0)`` and
    ``("rules", 1)``; ``tags = ["a", "b"]`` gives ``("tags", 0)`` and ``("tags", 1)`` at the line
    each element starts on. Every prefix of a recorded path is recorded too; a table that is only
    implied (``[a.b]`` implies ``a``) gets the line where it is first implied, unless it is later
    defined explicitly by its own header.

    Never raises: text that is not TOML yields whatever could be recognised.
    """
    scanner = _Scanner(text)
    scanner.run()
    return scanner.lines


def line_of(lines: dict[KeyPath, int], loc: tuple[str | int, ...]) -> int | None:
    """Line for a pydantic-style location: the longest prefix of `loc` present in `lines`, or None.

    First the exact prefixes of `loc` are tried, longest first. Pydantic locations may contain
    parts that are not in the TOML at all (the tag of a union member, ``"[key]"`` for a dict key,
    validator names), as in ``("sources", "x", "mastodon", "base_url")``, so when the whole of
    `loc` is not found, `loc` is also walked from the left, skipping every part that does not
    extend the path known so far. With `lines` from `key_lines` (which holds every prefix of every
    path) the walk reaches at least as deep as the longest exact prefix; its line is returned
    whenever it gets deeper (here: the line of ``base_url`` inside
    ``[sources.x]`` rather than the header's line). None when no part of `loc` leads to a known
    path (and for the empty location).
    """
    exact = _longest_known_prefix(lines, loc)
    if exact < len(loc):
        walked = _walk_skipping_unknown(lines, loc)
        if len(walked) > exact:
            return lines[walked]
    return lines[loc[:exact]] if exact else None


def _longest_known_prefix(lines: dict[KeyPath, int], loc: KeyPath) -> int:
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return end
    return 0


def _walk_skipping_unknown(lines: dict[KeyPath, int], loc: KeyPath) -> KeyPath:
    path: KeyPath = ()
    for part in loc:
        if (*path, part) in lines:
            path = (*path, part)
    return path


def _unescape(raw: str) -> str:
    """Decode the escapes of a TOML basic string; anything malformed is kept verbatim."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        char = raw[i]
        if char != "\\" or i + 1 >= len(raw):
            out.append(char)
            i += 1
            continue
        code = raw[i + 1]
        if code in _ESCAPES:
            out.append(_ESCAPES[code])
            i += 2
            continue
        width = _HEX_ESCAPE_LENGTHS.get(code, 0)
        digits = raw[i + 2 : i + 2 + width]
        if width and len(digits) == width and all(d in "0123456789abcdefABCDEF" for d in digits):
            value = int(digits, 16)
            if value <= 0x10FFFF:
                out.append(chr(value))
                i += 2 + width
                continue
        out.append(char)
        i += 1
    return "".join(out)


class _Scanner:
    """A cursor over the text plus the state that TOML headers carry from line to line."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.lines: dict[KeyPath, int] = {}
        self.table: KeyPath = ()
        # Resolved path of each array of tables (indices of enclosing arrays included) -> how many
        # elements it has so far; the last element is the one later headers and keys refer to.
        self.aot_sizes: dict[KeyPath, int] = {}
        self._line_starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    # -- low-level cursor helpers -------------------------------------------------------------

    def line(self) -> int:
        return bisect.bisect_right(self._line_starts, self.pos)

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def skip_whitespace(self) -> None:
        while self.peek() and self.peek() in _WHITESPACE:
            self.pos += 1

    def skip_to_end_of_line(self) -> None:
        end = self.text.find("\n", self.pos)
        self.pos = len(self.text) if end < 0 else end

    def skip_blank_and_comments(self) -> None:
        """Skip whitespace, newlines and comments, as allowed between array elements."""
        while True:
            self.skip_whitespace()
            if self.peek() == "\n":
                self.pos += 1
            elif self.peek() == "#":
                self.skip_to_end_of_line()
            else:
                return

    def register(self, path: KeyPath, line: int) -> None:
        """Record `path` at `line`, and its not yet known prefixes at the same line."""
        for end in range(1, len(path)):
            self.lines.setdefault(path[:end], line)
        if path:
            self.lines[path] = line

    # -- document level ------------------------------------------------------------------------

    def run(self) -> None:
        while self.pos < len(self.text):
            self.skip_whitespace()
            char = self.peek()
            if char in ("\n", "#", ""):
                self.skip_to_end_of_line()
                self.pos += 1
                continue
            start = self.pos
            ok = self.header() if char == "[" else self.key_value(self.table, 0)
            self.skip_whitespace()
            if not ok or self.peek() not in ("\n", "#", "") or self.pos == start:
                # Not TOML (or trailing garbage): resynchronise on the next line.
                self.skip_to_end_of_line()

    def header(self) -> bool:
        line = self.line()
        is_array = self.peek(1) == "["
        self.pos += 2 if is_array else 1
        keys = self.key()
        self.skip_whitespace()
        closing = "]]" if is_array else "]"
        if not keys or not self.text.startswith(closing, self.pos):
            return False
        self.pos += len(closing)
        if is_array:
            self.table = self.array_table_element(keys, line)
        else:
            self.table = self.resolve(keys)
            self.register(self.table, line)
        return True

    def resolve(self, keys: list[str]) -> KeyPath:
        """Turn header keys into a path, stepping into the last element of arrays of tables."""
        path: KeyPath = ()
        for key in keys:
            path = (*path, key)
            size = self.aot_sizes.get(path)
            if size:
                path = (*path, size - 1)
        return path

    def array_table_element(self, keys: list[str], line: int) -> KeyPath:
        array = (*self.resolve(keys[:-1]), keys[-1])
        index = self.aot_sizes.get(array, 0)
        self.aot_sizes[array] = index + 1
        self.register((*array, index), line)
        return (*array, index)

    # -- keys ----------------------------------------------------------------------------------

    def key(self) -> list[str] | None:
        """Parse a possibly dotted, possibly quoted key; None if there is none here."""
        parts: list[str] = []
        while True:
            self.skip_whitespace()
            part = self.simple_key()
            if part is None:
                return None
            parts.append(part)
            self.skip_whitespace()
            if self.peek() != ".":
                return parts
            self.pos += 1

    def simple_key(self) -> str | None:
        char = self.peek()
        if char == '"' or char == "'":
            end = self.single_line_string_end()
            if end < 0:
                return None
            raw = self.text[self.pos + 1 : end - 1]
            self.pos = end
            return _unescape(raw) if char == '"' else raw
        start = self.pos
        while self.peek() and self.peek() in _BARE_KEY_CHARS:
            self.pos += 1
        return self.text[start : self.pos] if self.pos > start else None

    def key_value(self, table: KeyPath, depth: int) -> bool:
        line = self.line()
        keys = self.key()
        if not keys or self.peek() != "=":
            return False
        self.pos += 1
        path = table + tuple(keys)
        self.register(path, line)
        self.skip_whitespace()
        return self.value(path, depth)

    # -- values --------------------------------------------------------------------------------

    def value(self, path: KeyPath, depth: int) -> bool:
        if depth > _MAX_DEPTH:
            return False
        char = self.peek()
        if char == '"' or char == "'":
            return self.string()
        if char == "[":
            return self.array(path, depth)
        if char == "{":
            return self.inline_table(path, depth)
        return self.scalar()

    def scalar(self) -> bool:
        """Numbers, booleans, dates and times: none contains a delimiter, so skip to one."""
        start = self.pos
        while self.peek() and self.peek() not in _SCALAR_END:
            self.pos += 1
        return self.pos > start

    def array(self, path: KeyPath, depth: int) -> bool:
        self.pos += 1
        index = 0
        while True:
            self.skip_blank_and_comments()
            char = self.peek()
            if char == "]":
                self.pos += 1
                return True
            if char == "," or char == "":
                return False
            self.register((*path, index), self.line())
            if not self.value((*path, index), depth + 1):
                return False
            index += 1
            self.skip_blank_and_comments()
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "]":
                return False

    def inline_table(self, path: KeyPath, depth: int) -> bool:
        self.pos += 1
        while True:
            # Newlines and comments are only legal here in TOML 1.1; accept them anyway.
            self.skip_blank_and_comments()
            char = self.peek()
            if char == "}":
                self.pos += 1
                return True
            if char == "," or char == "":
                return False
            if not self.key_value(path, depth + 1):
                return False
            self.skip_blank_and_comments()
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "}":
                return False

    # -- strings -------------------------------------------------------------------------------

    def string(self) -> bool:
        """Skip the string value starting at the cursor; False if it is unterminated."""
        quote = self.peek()
        multi_line = self.text.startswith(quote * 3, self.pos)
        end = self.multi_line_string_end(quote) if multi_line else self.single_line_string_end()
        if end < 0:
            # An unterminated one-line string ends at the end of its line (and the caller resyncs
            # there); an unterminated multi-line string swallows the rest of the text.
            if multi_line:
                self.pos = len(self.text)
            return False
        self.pos = end
        return True

    def single_line_string_end(self) -> int:
        """Index just past the closing quote of the one-line string at the cursor, or -1."""
        quote = self.peek()
        i = self.pos + 1
        while i < len(self.text):
            char = self.text[i]
            if char == "\n":
                return -1
            if char == quote:
                return i + 1
            i += 2 if char == "\\" and quote == '"' else 1
        return -1

    def multi_line_string_end(self, quote: str) -> int:
        """Index just past the closing delimiter of the multi-line string at the cursor, or -1.

        The content may end with one or two quote characters right before the delimiter
        (``\"\"\"a\"\"\"\"\"`` is ``a""``), so up to two extra quotes are consumed.
        """
        i = self.pos + 3
        while i < len(self.text):
            if self.text.startswith(quote * 3, i):
                end = i + 3
                while end < i + 5 and end < len(self.text) and self.text[end] == quote:
                    end += 1
                return end
            i += 2 if self.text[i] == "\\" and quote == '"' else 1
        return -1
