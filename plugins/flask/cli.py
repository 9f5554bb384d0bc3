"""Flask's command lines: which words start a Flask dev server, and `flask run`'s options.

Facts: Flask 3.1 ``src/flask/cli.py`` (the ``flask`` group's ``-e/--env-file`` and
``-A/--app`` options and ``--debug/--no-debug``; ``run_command``'s ``-h/--host``,
``-p/--port``, ``--cert``, ``--key``, ``--debugger/--no-debugger``, ``--extra-files``,
``--exclude-patterns``), click's option parsing (``--port=5001``, ``-p5001``, the last one
wins), and CPython's command line (``python -m flask``, ``python app.py``; ``-W``/``-X``
take a value). Reads words only; what the options mean is worked out in ``services``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

from devlint.model import Source, Sourced, escape_braces

from .values import quote

_PYTHON_NAMES = ("python", "python3", "pythonw", "py")
_GROUP_VALUE_OPTS = {"-e": "env_file", "--env-file": "env_file", "-A": "app", "--app": "app"}
_RUN_VALUE_OPTS = {
    "-h": "host",
    "--host": "host",
    "-p": "port",
    "--port": "port",
    "--cert": "cert",
    "--key": "key",
    "--extra-files": "",
    "--exclude-patterns": "",
}
_PY_VALUE_OPTS = ("-W", "-X", "-Q", "--check-hash-based-pycs")


@dataclass
class FlaskArgs:
    """`flask ... run ...` options, last one wins (as click does): values by option name
    (``port``, ``host``, ``app``, ``env_file``, ``cert``, ``key``), and the debug switches."""

    values: Dict[str, Sourced[str]] = field(default_factory=dict)
    debug: Optional[Sourced[str]] = None
    debugger: Optional[Sourced[str]] = None


def basename(word: str) -> str:
    """A program's name as typed, without folders (either slash) and ``.exe``, lower case."""
    name = word.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return name[:-4] if name.endswith(".exe") else name


def is_python(word: str) -> bool:
    """Whether a program is a Python interpreter (python, python3.11, pythonw, py …)."""
    name = basename(word)
    return name in _PYTHON_NAMES or re.fullmatch(r"python(?:3(?:\.\d+)?t?)?w?", name) is not None


def read_command(argv: Sequence[str]) -> Union[FlaskArgs, str, None]:
    """What a command line starts: `flask run`'s options (``flask …`` or ``python -m flask …``),
    the script of ``python app.py`` as typed, or None when it is neither."""
    if not argv:
        return None
    if basename(argv[0]) == "flask":
        return parse_flask_args(argv[1:], argv[:1])
    if not is_python(argv[0]):
        return None
    i = 1
    while i < len(argv):
        word = argv[i]
        if (word == "-m" and i + 1 < len(argv)) or (word.startswith("-m") and len(word) > 2):
            module = argv[i + 1] if word == "-m" else word[2:]
            rest = argv[i + 2 :] if word == "-m" else argv[i + 1 :]
            return parse_flask_args(rest, argv[: len(argv) - len(rest)]) if module == "flask" else None
        if word in ("-c", "-"):
            return None
        if word in _PY_VALUE_OPTS:
            i += 2
        elif word.startswith("-"):
            i += 1
        else:
            return word
    return None


def parse_flask_args(args: Sequence[str], prefix: Sequence[str]) -> Optional[FlaskArgs]:
    """Options of `flask [group options] run [run options]`; None when not `run`.

    prefix: the words before args (``flask``, ``python -m flask``), for the fix texts that
    rewrite the command with another port.
    """
    result = FlaskArgs()
    words = list(args)
    shown = [*prefix, *words]
    i = 0
    in_run = False
    while i < len(words):
        word = words[i]
        if not in_run and not word.startswith("-"):
            if word != "run":
                return None
            in_run = True
            i += 1
            continue
        if _switch(result, word, in_run):
            i += 1
            continue
        found = _value_option(words, i, _RUN_VALUE_OPTS if in_run else _GROUP_VALUE_OPTS)
        if found is None:
            i += 1  # a flag without a value, or one devlint does not need
            continue
        name, value, text, step, attached = found
        if name:
            fix = _flag_fix(shown, len(prefix) + i, attached)
            result.values[name] = Sourced(value, Source("flag", text), fix)
        i += step
    return result if in_run else None


def _switch(result: FlaskArgs, word: str, in_run: bool) -> bool:
    """Record --debug/--no-debug (anywhere) and --debugger/--no-debugger (after run)."""
    if word in ("--debug", "--no-debug"):
        result.debug = Sourced("1" if word == "--debug" else "0", Source("flag", word))
        return True
    if in_run and word in ("--debugger", "--no-debugger"):
        result.debugger = Sourced("1" if word == "--debugger" else "0", Source("flag", word))
        return True
    return False


def _value_option(
    words: Sequence[str], i: int, options: Mapping[str, str]
) -> Optional[Tuple[str, str, str, int, Optional[str]]]:
    """The option with a value at words[i], as (name, value, text as typed, words it takes,
    the attached prefix ``--port=`` / ``-p`` or None when the value is the next word)."""
    word = words[i]
    if word in options and i + 1 < len(words):
        return options[word], words[i + 1], f"{word} {words[i + 1]}", 2, None
    if word.startswith("--") and "=" in word and word.split("=", 1)[0] in options:
        opt, value = word.split("=", 1)
        return options[opt], value, word, 1, opt + "="
    if len(word) > 2 and word[:2] in options and not word.startswith("--"):
        return options[word[:2]], word[2:], word, 1, word[:2]
    return None


def _flag_fix(shown: Sequence[str], at: int, attached: Optional[str]) -> str:
    """The command line with "{port}" for the value of the option at shown[at]."""
    quoted = [escape_braces(quote([w])) for w in shown]
    if attached is None:
        quoted[at + 1] = "{port}"
    else:
        quoted[at] = escape_braces(attached) + "{port}"
    return " ".join(quoted)
