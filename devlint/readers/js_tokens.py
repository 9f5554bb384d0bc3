"""JavaScript (and TypeScript) source as tokens: strings, numbers, names, punctuation, regexes.

The lexical half of ``devlint.readers.js``: it turns source text into tokens with their line
and offsets, drops comments (and a ``#!`` line), decodes string and escape sequences, and keeps
template literals whole (a ``${...}`` substitution is marked, not read). It is a lexer only:
it knows no grammar, so TypeScript's extra syntax (type annotations, ``as``, generics) comes out
as ordinary names and punctuation. It never fails: an unterminated string or comment ends at the
end of its line or of the text.

Rules followed (ECMAScript 2024, §12 "ECMAScript Language: Lexical Grammar"): a ``/`` starts a
regular expression where an expression may start (after an operator, an opening bracket or a
keyword such as ``return``), and is division elsewhere; identifiers are ASCII letters, ``_``,
``$`` and non-ASCII characters; numbers take ``_`` separators, ``0x``/``0o``/``0b`` and ``n``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple


@dataclass(frozen=True)
class Token:
    """One token: kind, its value (strings decoded), 1-based line, and offsets in the text."""

    kind: str  # str num name punc tmpl regex eof
    value: str
    line: int
    start: int
    end: int
    subst: bool = False  # a template literal with ${...}


_PUNCTS = ("...", "===", "!==", ">>>", "**=", "<<=", ">>=", "=>", "==", "!=", "<=", ">=", "&&", "||", "??",
           "?.", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "**", "<<", ">>")
_REGEX_AFTER = {"return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw",
                "instanceof", "yield", "await"}
_ESC = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_NUMBER = re.compile(r"(?:0[xXoObB][0-9a-fA-F_]+|\d[\d_]*(?:\.[\d_]*)?(?:[eE][+-]?\d+)?|\.\d[\d_]*(?:[eE][+-]?\d+)?)n?")
# A JavaScript identifier: ASCII letters, _ and $, or any non-ASCII BMP character. Written
# as alternations because a class mixing \w with a wide range costs ~7 ms to compile.
_BMP_NON_ASCII = r"[^\x00-\x7f\U00010000-\U0010ffff]"
_NAME = re.compile(rf"(?:[A-Za-z_$]|{_BMP_NON_ASCII})(?:[\w$]|{_BMP_NON_ASCII})*")


def tokenize(text: str) -> List[Token]:
    """Strings, numbers, names and punctuation of JavaScript source, comments dropped."""
    toks: List[Token] = []
    i, n, line = 0, len(text), 1
    while i < n:
        char = text[i]
        if char == "\n":
            line += 1
            i += 1
            continue
        if char in " \t\r\ufeff\u00a0\u2028\u2029":
            i += 1
            continue
        if text.startswith("//", i) or (text.startswith("#!", i) and i == 0):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += text.count("\n", i, end)
            i = end
            continue
        start, start_line = i, line
        if char in "'\"":
            value, i = _string(text, i, char)
            line += text.count("\n", start, i)  # line continuations (`'a\<newline>b'`)
            toks.append(Token("str", value, start_line, start, i))
            continue
        if char == "`":
            value, i, subst = _template(text, i)
            line += text.count("\n", start, i)
            toks.append(Token("tmpl", value, start_line, start, i, subst))
            continue
        if char.isdigit() or (char == "." and text[i + 1:i + 2].isdigit()):
            match = _NUMBER.match(text, i)
            i = match.end() if match else i + 1
            toks.append(Token("num", text[start:i], line, start, i))
            continue
        match = _NAME.match(text, i)
        if match:
            i = match.end()
            toks.append(Token("name", match.group(), line, start, i))
            continue
        if char == "/" and _regex_allowed(toks[-1] if toks else None):
            i = _regex(text, i)
            toks.append(Token("regex", text[start:i], line, start, i))
            continue
        op = next((p for p in _PUNCTS if text.startswith(p, i)), char)
        i += len(op)
        toks.append(Token("punc", op, line, start, i))
    toks.append(Token("eof", "", line, n, n))
    return toks


def _regex_allowed(prev: Optional[Token]) -> bool:
    if prev is None:
        return True
    if prev.kind == "punc":
        return prev.value not in (")", "]", "}", "++", "--")
    return prev.kind == "name" and prev.value in _REGEX_AFTER


def _string(text: str, i: int, quote: str) -> Tuple[str, int]:
    parts: List[str] = []
    i += 1
    n = len(text)
    while i < n:
        char = text[i]
        if char == quote:
            return "".join(parts), i + 1
        if char == "\n":
            return "".join(parts), i  # unterminated: stop at the line's end
        if char == "\\" and i + 1 < n:
            char, i = _escape(text, i)
            parts.append(char)
            continue
        parts.append(char)
        i += 1
    return "".join(parts), n


def _escape(text: str, i: int) -> Tuple[str, int]:
    """The character an escape sequence at text[i] (a backslash) stands for, and where it ends.
    A line continuation stands for nothing; an unknown escape for its letter."""
    nxt = text[i + 1]
    if nxt in _ESC:
        return _ESC[nxt], i + 2
    if nxt in "\n\u2028\u2029":  # a line continuation (ECMAScript §12.9.4: LineContinuation)
        return "", i + 2
    if nxt == "\r":
        return "", i + (3 if text.startswith("\n", i + 2) else 2)
    if nxt == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", text[i + 2:i + 4]):
        return chr(int(text[i + 2:i + 4], 16)), i + 4
    if nxt == "u":
        match = re.match(r"\{([0-9a-fA-F]{1,6})\}|([0-9a-fA-F]{4})", text[i + 2:i + 10])
        if match:
            code = int(match.group(1) or match.group(2), 16)
            return (chr(code) if code <= 0x10FFFF else ""), i + 2 + match.end()
    return nxt, i + 2


def _template(text: str, i: int) -> Tuple[str, int, bool]:
    parts: List[str] = []
    subst = False
    i += 1
    n = len(text)
    while i < n:
        char = text[i]
        if char == "`":
            return "".join(parts), i + 1, subst
        if char == "\\" and i + 1 < n:
            char, i = _escape(text, i)
            parts.append(char)
            continue
        if text.startswith("${", i):
            subst = True
            depth, i = 1, i + 2
            while i < n and depth:
                if text[i] == "{":
                    depth += 1
                elif text[i] == "}":
                    depth -= 1
                elif text[i] in "'\"`":
                    close = text.find(text[i], i + 1)
                    i = n if close < 0 else close
                i += 1
            parts.append("${…}")
            continue
        parts.append(char)
        i += 1
    return "".join(parts), n, subst


def _regex(text: str, i: int) -> int:
    n = len(text)
    i += 1
    in_class = False
    while i < n and text[i] != "\n":
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "/" and not in_class:
            i += 1
            while i < n and (text[i].isalnum() or text[i] == "_"):
                i += 1
            return i
        i += 1
    return i



__all__ = ["Token", "tokenize"]
