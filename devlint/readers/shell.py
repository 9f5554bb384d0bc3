"""A POSIX-ish shell text reader: the words and operators of an npm script.

Hand-written because what devlint needs is not what ``shlex`` gives: ``shlex.split`` drops
operators (``&&``, ``|``, ``;``, ``(``) and their positions, fails on an unclosed quote, and
has no notion of ``$(...)``. Here every token keeps its offsets (messages quote the command as
typed), an unclosed quote ends at the end of the text, ``$(...)``, ``${...}`` and backticks stay
one word as written (never expanded), and ``#`` starts a comment only where a word could
start. Outside quotes a backslash escapes only the characters sh gives meaning to, so a
Windows path written for cmd.exe (``venv\\Scripts\\python``) survives as one word.
Nothing is executed or expanded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

OPERATORS = ("&&", "||", ";;", "|&", "&>>", "&>", ">>", ">&", "<&", "<<", "<>", ">|",
             ";", "&", "|", "(", ")", "<", ">")
SEPARATORS = frozenset({"&&", "||", ";", ";;", "&", "|", "|&", "\n"})
REDIRECTS = frozenset({"&>>", "&>", ">>", ">&", "<&", "<<", "<>", ">|", "<", ">"})
_ESCAPABLE = frozenset(" \t\n\"'\\$`;&|()<>#*?[]~{}!")
_DOUBLE_QUOTE_ESCAPABLE = '"\\$`\n'


@dataclass
class Token:
    """A word (quotes removed) or an operator ("op"; a newline is one), with its offsets."""

    kind: str  # "word" or "op"
    value: str
    start: int
    end: int


def tokenize(text: str) -> List[Token]:
    """Words (quotes removed) and operators of a shell text, in order."""
    tokens: List[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in " \t\r":
            i += 1
        elif char == "\n":
            tokens.append(Token("op", "\n", i, i + 1))
            i += 1
        elif char == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
        else:
            op = _operator_at(text, i)
            if op is not None:
                tokens.append(Token("op", op, i, i + len(op)))
                i += len(op)
                continue
            word, end, is_fd = _word(text, i)
            if not is_fd:
                tokens.append(Token("word", word, i, end))
            i = end
    return tokens


def _operator_at(text: str, i: int) -> Optional[str]:
    return next((op for op in OPERATORS if text.startswith(op, i)), None)


def _word(text: str, start: int) -> Tuple[str, int, bool]:
    """(the word starting at start, where it ends, whether it is a redirect's file
    descriptor such as the 2 of `2>file` rather than a word)."""
    parts: List[str] = []
    i, n = start, len(text)
    while i < n:
        char = text[i]
        if char in " \t\r\n" or _operator_at(text, i) is not None:
            so_far = "".join(parts)
            return so_far, i, char in "<>" and so_far.isdigit() and i == start + len(so_far)
        if char == "'":
            end = text.find("'", i + 1)
            end = n if end < 0 else end
            parts.append(text[i + 1:end])
            i = end + 1
        elif char == '"':
            i = _double_quoted(text, i + 1, parts)
        elif char == "\\":
            i = _escape(text, i, parts)
        elif text.startswith(("$(", "${"), i):
            end = matching(text, i + 1)
            parts.append(text[i:end])
            i = end
        elif char == "`":
            end = text.find("`", i + 1)
            end = n if end < 0 else end + 1
            parts.append(text[i:end])
            i = end
        else:
            parts.append(char)
            i += 1
    return "".join(parts), i, False


def _double_quoted(text: str, i: int, parts: List[str]) -> int:
    """Read a "..." body from i (after the quote) into parts; returns the index after it."""
    n = len(text)
    while i < n and text[i] != '"':
        if text[i] == "\\" and i + 1 < n and text[i + 1] in _DOUBLE_QUOTE_ESCAPABLE:
            if text[i + 1] != "\n":
                parts.append(text[i + 1])
            i += 2
        elif text.startswith("$(", i):
            end = matching(text, i + 1)
            parts.append(text[i:end])
            i = end
        else:
            parts.append(text[i])
            i += 1
    return i + 1


def _escape(text: str, i: int, parts: List[str]) -> int:
    """A backslash outside quotes at i: a line continuation, an escape, or a kept backslash."""
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if nxt == "\n":
        return i + 2
    if nxt and nxt in _ESCAPABLE:
        parts.append(nxt)
        return i + 2
    parts.append("\\")
    return i + 1


def matching(text: str, open_at: int) -> int:
    """The index after the bracket that closes the one at open_at ("(" or "{"), skipping
    quotes; the end of the text when it is never closed."""
    close = {"(": ")", "{": "}"}[text[open_at]]
    depth, i, n = 0, open_at, len(text)
    while i < n:
        char = text[i]
        if char in "'\"":
            end = text.find(char, i + 1)
            i = n if end < 0 else end + 1
            continue
        if char == text[open_at]:
            depth += 1
        elif char == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


__all__ = ["OPERATORS", "REDIRECTS", "SEPARATORS", "Token", "matching", "tokenize"]
