"""A static reader of JavaScript and TypeScript config files: the literal values they export.

Config files of the JavaScript tools devlint knows are code (``proxy.conf.js``,
``vite.config.ts``, ``webpack.config.js``), but the values devlint needs (a port, a host, a
proxy target) are almost always literals. This module reads those literals **without running
anything**, records the line where each value starts (by key path, like
``devlint.readers.jsonc``), and hands back what it cannot read as an ``Opaque`` carrying its
source text and line, so a message can name ``process.env.API_URL`` at ``proxy.conf.js:7``
instead of guessing.

What it evaluates: object and array literals (shorthand properties, holes, quoted, numeric and
computed keys), strings, template literals without ``${}``, numbers (hex/octal/binary, ``_``
separators, a leading ``-``), ``true``/``false``/``null``/``undefined``, and a name bound by a
top-level ``const``/``let``/``var NAME = literal`` (followed through other such names, cycles
cut). The exported value is the one of ``module.exports = ...`` or ``export default ...``.

What it does not: any operator, call, member access, spread, method, ``process.env``, a
template with ``${}``, ``require``/``import`` of another file. Code that changes the exported
binding after its declaration (``config.x = ...``, ``routes.push(...)``) is reported as a
Problem with its line. TypeScript syntax beyond JavaScript's (``const x: T =``, ``as``,
``satisfies``) is not understood: such a value is Opaque, never misread.

Why hand-written: a syntax tree is the small part of the job; the part devlint needs is the
literal evaluation on top of it, with a line per key path and the text of what is left
unevaluated, and that is needed whichever parser is used. The pure-Python parsers on PyPI parse
ECMAScript only, not TypeScript, and raise on a file they cannot parse (esprima 4.0.1 of 2018
is ES2017; pyjsparser, ES5.1; calmjs.parse, ES5; the recent esprima forks esprima-fork and
esprima2, ECMAScript only). tree-sitter with its JavaScript/TypeScript grammars reads TypeScript and
broken files with positions, but is a native extension plus grammar packages, pinned to each
other's ABI, for every Python devlint supports, to replace a ~200-line tokenizer
(``devlint.readers.js_tokens``). Interpreters (js2py, dukpy, node) run the file, which devlint
never does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Set, Tuple, Union

from devlint.readers.js_tokens import Token, tokenize
from devlint.readers.jsonc import PathKey, whole

_MAX_NESTING = 64


@dataclass(frozen=True)
class Opaque:
    """A JavaScript expression devlint does not evaluate (process.env.X, a variable, a call):
    its source text (whitespace folded, cut at 80 characters) and the line it starts on."""

    text: str
    line: int

    def __str__(self) -> str:
        """The code quoted for a message (template literals carry their own backticks)."""
        return self.text if "`" in self.text else f"`{self.text}`"


class Problem(NamedTuple):
    """Why the exported value cannot be read (in full), and the line to look at."""

    message: str
    line: int


class Reader:
    """Literal values of JavaScript source: objects, arrays, strings, numbers, booleans, and
    identifiers bound by a top-level `const NAME = literal`. Anything else is an Opaque."""

    def __init__(self, text: str, tokens: Sequence[Token]) -> None:
        self.text = text
        self.toks = tokens
        self.consts: Dict[str, Tuple[int, int]] = {}  # name → token range of its initialiser
        self.lines: Dict[PathKey, int] = {}
        self._active: Set[str] = set()
        # A const is evaluated once per nesting depth, however often it is used: re-reading it at
        # every use was quadratic (a 4,000-entry object of one const's uses: 10 s). Where the
        # values inside a use start is looked up through `_uses` (path of the use → const).
        self._memo: Dict[Tuple[str, int], Any] = {}
        self._uses: Dict[PathKey, str] = {}

    # -- token helpers ------------------------------------------------------------
    def line(self, *path: Union[str, int]) -> Optional[int]:
        """The line where the value at a key path starts (like ``jsonc.Document.line``); inside
        a use of a const, the line in the const's initialiser."""
        key: PathKey = tuple(path)
        for _ in range(len(self.consts) + 1):  # each turn follows one use of a const
            found = self.lines.get(key)
            if found is not None:
                return found
            for cut in range(len(key) - 1, -1, -1):  # the innermost use of a const on the path
                name = self._uses.get(key[:cut])
                if name is not None:
                    key = (*_const_path(name), *key[cut:])
                    break
            else:
                return None
        return None

    def mark(self, path: PathKey, line: int) -> None:
        self.lines[path] = line

    def tok(self, i: int) -> Token:
        return self.toks[min(i, len(self.toks) - 1)]

    def is_punc(self, i: int, *values: str) -> bool:
        t = self.tok(i)
        return t.kind == "punc" and t.value in values

    def text_of(self, start: int, end: int) -> str:
        if end <= start:
            return self.tok(start).value
        raw = self.text[self.tok(start).start:self.tok(end - 1).end]
        raw = " ".join(raw.split())
        return raw if len(raw) <= 80 else raw[:77] + "..."

    def opaque(self, start: int, end: int) -> Opaque:
        """Tokens start..end as an expression that is not evaluated."""
        return Opaque(self.text_of(start, end), self.tok(start).line)

    def closed(self, i: int, closer: str) -> Optional[int]:
        """The token after a literal whose closer (or the end of the text) is token i, else None."""
        if self.tok(i).kind == "eof":
            return i
        return i + 1 if self.is_punc(i, closer) else None

    def spread(self, i: int) -> Tuple[Opaque, int]:
        """`...expr` at token i, as an Opaque, and the token after it."""
        end = self.expr_end(i + 1)
        return Opaque("..." + self.text_of(i + 1, end), self.tok(i).line), end

    def ends(self, i: int) -> bool:
        """Is token i where an expression stops (a separator, a closer, or a new statement)?"""
        t = self.tok(i)
        if t.kind == "eof" or self.is_punc(i, ",", "}", "]", ")", ";", ":"):
            return True
        return self.new_statement(i)

    def expr_end(self, i: int) -> int:
        """The first token after the expression starting at i (brackets balanced)."""
        depth = 0
        start = i
        while self.tok(i).kind != "eof":
            t = self.tok(i)
            if depth == 0 and i > start and self.new_statement(i):
                return i
            if t.kind == "punc":
                if t.value in "([{":
                    depth += 1
                elif t.value in ")]}":
                    if depth == 0:
                        return i
                    depth -= 1
                elif depth == 0 and t.value in (",", ";"):
                    return i
            i += 1
        return i

    def new_statement(self, i: int) -> bool:
        """Automatic semicolon insertion, roughly: a value-like token on a new line after a
        token that can end an expression starts the next statement."""
        t, prev = self.tok(i), self.tok(i - 1)
        return t.line > prev.line and t.kind in ("name", "str", "num", "tmpl") and (
            prev.kind != "punc" or prev.value in (")", "]", "}"))

    def skip_group(self, i: int) -> int:
        """The token after the bracket group opening at i."""
        depth = 0
        while self.tok(i).kind != "eof":
            if self.is_punc(i, "(", "[", "{"):
                depth += 1
            elif self.is_punc(i, ")", "]", "}"):
                depth -= 1
                if depth <= 0:
                    return i + 1
            i += 1
        return i

    # -- values -------------------------------------------------------------------------
    def value(self, i: int, path: PathKey, depth: int = 0) -> Tuple[Any, int]:
        t = self.tok(i)
        self.lines[path] = t.line
        start = i
        result: Any
        if depth > _MAX_NESTING:
            end = self.expr_end(i)
            return self.opaque(start, end), end
        if self.is_punc(i, "{"):
            result, i = self.obj(i, path, depth)
        elif self.is_punc(i, "["):
            result, i = self.array(i, path, depth)
        elif t.kind == "str" or (t.kind == "tmpl" and not t.subst):
            result, i = t.value, i + 1
        elif t.kind == "num" or (self.is_punc(i, "-") and self.tok(i + 1).kind == "num"):
            negative = t.kind == "punc"
            number = self.number(self.tok(i + 1 if negative else i).value)
            if number is None:
                end = self.expr_end(i)
                return self.opaque(start, end), end
            result, i = (-number if negative else number), i + (2 if negative else 1)
        elif t.kind == "name" and t.value in ("true", "false", "null", "undefined"):
            result, i = {"true": True, "false": False, "null": None, "undefined": None}[t.value], i + 1
        elif t.kind == "name" and t.value in self.consts and t.value not in self._active and self.ends(i + 1):
            result = self.const(t.value, depth + 1)
            self._uses[path] = t.value
            self.lines[path] = t.line
            return result, i + 1
        else:
            end = self.expr_end(i)
            return self.opaque(start, end), max(end, i + 1)
        if not self.ends(i):  # `'http://' + host`, `{...}.x`: more expression follows
            end = self.expr_end(i)
            return self.opaque(start, end), end
        return result, i

    def const(self, name: str, depth: int) -> Any:
        """The value of a top-level `const NAME = ...` read at a nesting depth (the cap on
        nesting counts from the use), evaluated once per (name, depth): linear in the text
        however often the const is used. A cycle (`const a = [b]; const b = [a]`, a
        ReferenceError in JavaScript) is cut with an Opaque where it closes."""
        key = (name, depth)
        if key not in self._memo:
            begin, _ = self.consts[name]
            self._active.add(name)
            try:
                self._memo[key] = self.value(begin, _const_path(name), depth)[0]
            finally:
                self._active.discard(name)
        return self._memo[key]

    @staticmethod
    def number(raw: str) -> Optional[Union[int, float]]:
        clean = raw.replace("_", "").rstrip("n")
        try:
            if clean[:2].lower() in ("0x", "0o", "0b"):
                return int(clean, 0)
            return int(clean) if clean.isdigit() else whole(float(clean))
        except ValueError:
            return None

    def obj(self, i: int, path: PathKey, depth: int) -> Tuple[Dict[Any, Any], int]:
        result: Dict[Any, Any] = {}
        i += 1
        while True:
            closed = self.closed(i, "}")
            if closed is not None:
                return result, closed
            t = self.tok(i)
            if self.is_punc(i, ","):
                i += 1
                continue
            if self.is_punc(i, "..."):
                spread, i = self.spread(i)
                result[spread.text] = spread
                self.mark((*path, spread.text), t.line)
                continue
            computed = False
            if self.is_punc(i, "["):
                after = self.skip_group(i)
                key: Any = "[" + self.text_of(i + 1, after - 1) + "]"
                computed = True
                key_at, i = i, after
            elif t.kind in ("str", "name", "num", "tmpl"):
                if t.kind == "name" and t.value in ("get", "set", "async") and self.tok(i + 1).kind in ("name", "str"):
                    i += 1
                    t = self.tok(i)
                key = t.value
                key_at, i = i, i + 1
            elif self.is_punc(i, "*"):
                i += 1
                continue
            else:  # something no object literal holds: skip to the next property
                i = max(self.expr_end(i), i + 1)
                continue
            if self.is_punc(i, ":"):
                value, i = self.value(i + 1, (*path, key), depth + 1)
            elif self.is_punc(i, "("):  # a method: `bypass(req) { ... }`
                after = self.skip_group(i)
                if self.is_punc(after, "{"):
                    after = self.skip_group(after)
                value = self.opaque(key_at, after)
                self.mark((*path, key), self.tok(key_at).line)
                i = after
            elif self.is_punc(i, ",", "}") and self.tok(key_at).kind == "name":  # shorthand `{ target }`
                value, _ = self.value(key_at, (*path, key), depth + 1)
            else:
                end = max(self.expr_end(i), i + 1)
                value = self.opaque(key_at, end)
                i = end
            if computed:
                value = Opaque(f"{key}: ...", self.tok(key_at).line)
                self.mark((*path, key), self.tok(key_at).line)
            result[key] = value
            if not self.is_punc(i, ",", "}"):
                i = max(self.expr_end(i), i + 1) if self.tok(i).kind != "eof" else i

    def array(self, i: int, path: PathKey, depth: int) -> Tuple[List[Any], int]:
        result: List[Any] = []
        i += 1
        expect_value = True
        while True:
            closed = self.closed(i, "]")
            if closed is not None:
                return result, closed
            if self.is_punc(i, ","):
                if expect_value:
                    result.append(None)  # a hole
                expect_value = True
                i += 1
                continue
            if self.is_punc(i, "..."):
                self.mark((*path, len(result)), self.tok(i).line)
                spread, i = self.spread(i)
                result.append(spread)
            else:
                value, i = self.value(i, (*path, len(result)), depth + 1)
                result.append(value)
            expect_value = False
            if not self.is_punc(i, ",", "]") and self.tok(i).kind != "eof":
                i = max(self.expr_end(i), i + 1)


def _const_path(name: str) -> PathKey:
    """Where the lines of a const's own value are kept: -1 is no array index and no key."""
    return (-1, name)


def read_export(text: str) -> Tuple[Any, Reader, Optional[Problem]]:
    """(the exported value, the reader with its line table, a Problem or None).

    Looks at top-level `const|let|var NAME = ...`, `module.exports = ...` and `export default ...`;
    nothing is run, so values built by code (a loop filling an object, process.env) are Opaque.
    """
    toks = tokenize(text)
    reader = Reader(text, toks)
    exported: Any = None
    export_at: Optional[int] = None
    declared: Dict[str, int] = {}
    depth, i = 0, 0
    while reader.tok(i).kind != "eof":
        t = reader.tok(i)
        if t.kind == "punc" and t.value in "([{":
            depth += 1
        elif t.kind == "punc" and t.value in ")]}":
            depth = max(0, depth - 1)
        elif depth == 0 and t.kind == "name":
            if (t.value in ("const", "let", "var") and reader.tok(i + 1).kind == "name"
                    and reader.is_punc(i + 2, "=")):
                name = reader.tok(i + 1).value
                end = reader.expr_end(i + 3)
                reader.consts[name] = (i + 3, end)
                declared[name] = i + 1
                i = max(end, i + 3)
                continue
            if (t.value == "module" and reader.is_punc(i + 1, ".") and reader.tok(i + 2).value == "exports"
                    and reader.is_punc(i + 3, "=")):
                export_at = i + 4
            elif t.value == "export" and reader.tok(i + 1).value == "default":
                export_at = i + 2
            if export_at is not None and export_at > i:
                exported, i = reader.value(export_at, (), 0)
                continue
        i += 1
    if export_at is None:
        return None, reader, Problem("no `module.exports = ...` or `export default ...` that devlint can read", 1)
    root = reader.tok(export_at)
    if root.kind == "name" and root.value in declared:
        changed = _changed_later(reader, root.value, declared[root.value], export_at)
        if changed is not None:
            return exported, reader, Problem(
                f"{root.value} is exported, but code at line {changed} changes it after its declaration; "
                "devlint reads only its literal value", changed)
    return exported, reader, None


def _changed_later(reader: Reader, name: str, declared_at: int, export_at: int) -> Optional[int]:
    """The line of a use of `name` that may change it (`name[k] = ...`, `name.push(...)`, `name = ...`)."""
    for i, t in enumerate(reader.toks):
        if t.kind != "name" or t.value != name or i in (declared_at, export_at):
            continue
        if reader.is_punc(i - 1, "."):
            continue  # someone else's property of the same name
        if reader.is_punc(i + 1, ".", "[", "=", "+=") or reader.tok(i - 1).value in ("assign", "("):
            return t.line
    return None


__all__ = ["Opaque", "PathKey", "Problem", "Reader", "read_export"]
