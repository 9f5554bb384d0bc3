"""JSON with comments and trailing commas, with the line of every value.

firebase-tools, Angular and TypeScript all accept ``//`` and ``/* */`` comments and trailing
commas in their JSON files, so devlint must too. Every message about such a file should
name the line to change, so the parser records where each value starts.

Numbers are JSON's (and JavaScript's) one number type: ``4304.0`` and ``4.304e3`` are the
number 4304, so a whole number comes back as an ``int`` whatever its spelling; only a
number with a fraction (``4304.5``) is a ``float``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple, Union

PathKey = Tuple[Union[str, int], ...]

MAX_DEPTH = 256

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_LITERALS = (("true", True), ("false", False), ("null", None))
_NUMBER_CHARS = frozenset("+-0123456789.eE")


class JsoncError(ValueError):
    """A syntax error, at a 1-based line and column."""

    def __init__(self, msg: str, line: int, column: int) -> None:
        super().__init__(f"{line}:{column}: {msg}")
        self.msg = msg
        self.line = line
        self.column = column


class Document:
    """A parsed file: its value, and the line where each value (by key path) starts."""

    def __init__(self, value: Any, lines: Dict[PathKey, int]) -> None:
        self.value = value
        self._lines = lines

    def line(self, *path: Union[str, int]) -> int | None:
        return self._lines.get(tuple(path))


def loads(text: str) -> Document:
    """Parse JSONC text. Raises JsoncError naming line and column on any error."""
    parser = _Parser(text)
    parser.skip()
    value = parser.value((), 0)
    parser.skip()
    if parser.pos < len(text):
        parser.fail("unexpected text after the end of the JSON value")
    return Document(value, parser.lines)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.lines: Dict[PathKey, int] = {}
        self._line_starts: List[int] = [0]
        for index, char in enumerate(text):
            if char == "\n":
                self._line_starts.append(index + 1)

    # -- positions and errors ----------------------------------------------
    def where(self, pos: int) -> Tuple[int, int]:
        import bisect

        line = bisect.bisect_right(self._line_starts, pos)
        return line, pos - self._line_starts[line - 1] + 1

    def fail(self, msg: str, pos: int | None = None) -> Any:
        line, column = self.where(self.pos if pos is None else pos)
        raise JsoncError(msg, line, column)

    # -- whitespace and comments --------------------------------------------
    def skip(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n:
            char = text[self.pos]
            if char in " \t\r\n\ufeff":
                self.pos += 1
            elif text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end + 1
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    self.fail("unterminated /* comment")
                self.pos = end + 2
            else:
                return

    # -- values ----------------------------------------------------------------
    def value(self, path: PathKey, depth: int) -> Any:
        if depth > MAX_DEPTH:
            self.fail(f"nested deeper than {MAX_DEPTH} levels")
        if self.pos >= len(self.text):
            self.fail("unexpected end of file, expected a value")
        self.lines[path] = self.where(self.pos)[0]
        char = self.text[self.pos]
        if char == "{":
            return self.obj(path, depth)
        if char == "[":
            return self.array(path, depth)
        if char == '"':
            return self.string()
        for word, literal in _LITERALS:
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return literal
        if char in _NUMBER_CHARS:
            return self.number()
        return self.fail(f"unexpected character {char!r}, expected a value")

    def obj(self, path: PathKey, depth: int) -> Dict[str, Any]:
        result: Dict[str, Any] = {}
        self.pos += 1
        while True:
            self.skip()
            if self.text.startswith("}", self.pos):
                self.pos += 1
                return result
            if not self.text.startswith('"', self.pos):
                self.fail("expected a double-quoted key or '}'")
            key = self.string()
            self.skip()
            if not self.text.startswith(":", self.pos):
                self.fail(f"expected ':' after key {key!r}")
            self.pos += 1
            self.skip()
            result[key] = self.value((*path, key), depth + 1)
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif not self.text.startswith("}", self.pos):
                self.fail("expected ',' or '}' after a value")

    def array(self, path: PathKey, depth: int) -> List[Any]:
        result: List[Any] = []
        self.pos += 1
        while True:
            self.skip()
            if self.text.startswith("]", self.pos):
                self.pos += 1
                return result
            result.append(self.value((*path, len(result)), depth + 1))
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif not self.text.startswith("]", self.pos):
                self.fail("expected ',' or ']' after a value")

    def string(self) -> str:
        text, start = self.text, self.pos
        self.pos += 1
        parts: List[str] = []
        while True:
            end = self.pos
            while end < len(text) and text[end] not in '"\\\n':
                end += 1
            parts.append(text[self.pos : end])
            if end >= len(text) or text[end] == "\n":
                self.fail("unterminated string", start)
            self.pos = end + 1
            if text[end] == '"':
                return "".join(parts)
            escape = text[self.pos : self.pos + 1]
            if escape == "u":
                code = self._hex4(self.pos + 1)
                self.pos += 5
                if 0xD800 <= code < 0xDC00 and text.startswith("\\u", self.pos):
                    low = self._hex4(self.pos + 2)
                    if 0xDC00 <= low < 0xE000:  # a UTF-16 surrogate pair is one character
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        self.pos += 6
                parts.append(chr(code))
            elif escape in _ESCAPES:
                parts.append(_ESCAPES[escape])
                self.pos += 1
            else:
                self.fail(f"bad escape \\{escape} in string")

    def _hex4(self, start: int) -> int:
        digits = self.text[start : start + 4]
        if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
            self.fail("bad \\u escape in string", start)
        return int(digits, 16)

    def number(self) -> Union[int, float]:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _NUMBER_CHARS:
            self.pos += 1
        token = self.text[start : self.pos]
        try:
            return int(token) if token.lstrip("-").isdigit() else whole(float(token))
        except ValueError:
            return self.fail(f"bad number {token!r}", start)  # type: ignore[no-any-return]


def whole(number: float) -> Union[int, float]:
    """A JSON/JavaScript number as Python keeps it: an ``int`` when it is a whole number
    (``4304.0``, ``1e3``: the same number as ``4304``, ``1000`` to JSON, JavaScript and the
    frameworks' schema checks), else the float (a fraction, infinity, NaN)."""
    return int(number) if number.is_integer() else number
