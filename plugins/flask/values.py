"""Flask's port, host and debug values: its defaults, what it accepts, and fix texts.

Facts: Flask 3.1 ``src/flask/cli.py`` (``run_command``: ``--port`` is a click INT, host
127.0.0.1 and port 5000 by default), ``src/flask/app.py`` (``Flask.run``: the same defaults),
``src/flask/helpers.py`` (``get_debug_flag``), Werkzeug ``serving.py`` (``bind()`` rejects a
port outside 0-65535; port 0 picks a random free one). A value is a ``Sourced[str]``: the
text Flask sees, where it came from, and the edit that changes it ("{port}" where a new port
goes, other escape_braces doubled).
"""

from __future__ import annotations

import os
from typing import List, Optional, Sequence

from devlint.model import Finding, Sourced

from .rules import RULES

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000


def quote(words: Sequence[str]) -> str:
    """A command line as a shell would read it back."""
    import shlex

    return " ".join(shlex.quote(w) for w in words)


def display_join(cwd: str, name: str) -> str:
    """A path below the project root as messages show it (forward slashes)."""
    path = os.path.normpath(os.path.join(cwd, name))
    return path.replace(os.sep, "/")


def truthy_debug(text: str) -> bool:
    """flask.helpers.get_debug_flag."""
    return bool(text and text.lower() not in ("0", "false", "no"))


def parse_port(value: Sourced[str], service: str, findings: List[Finding], what: str) -> Optional[int]:
    """The port Flask would bind for this text, or None with a DL403/DL404 finding; what is
    the program named in the hint (``flask run``)."""
    try:
        port = int(value.value)
    except ValueError:
        findings.append(RULES(
            "DL403", f"{service}: port {value.value!r} ({value.source}) is not a valid integer",
            service=service,
            hint=f"{what} stops with \"Invalid value for '--port' / '-p': {value.value!r} is not a valid "
                 'integer". Give a number such as 5000.',
            evidence={"value": value.value, "source": str(value.source)},
        ))
        return None
    if port == 0:
        findings.append(RULES(
            "DL404", f"{service}: port 0 ({value.source}) makes the server pick a random free port; "
                     "devlint cannot check it",
            service=service, hint="Give a fixed port.", evidence={"value": value.value},
        ))
        return None
    if not 0 < port < 65536:
        findings.append(RULES(
            "DL403", f"{service}: port {port} ({value.source}) is outside 1-65535",
            service=service, hint=f'{what} fails with "OverflowError: bind(): port must be 0-65535".',
            evidence={"value": value.value},
        ))
        return None
    return port
