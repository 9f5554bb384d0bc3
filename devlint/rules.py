"""The core's finding codes: what the port verdicts (DL1xx), the command reader (DL3xx: what
commands.py could not follow) and `probe` (DL7xx) report.

Declared once here, with their default severity and evidence keys; the plugins declare theirs
in their own rule tables (the stack checks DL2xx, Flask DL4xx, Firebase DL5xx, Angular DL6xx).
The README's code tables are checked against all of them (tests/test_docs.py).

Evidence of the port findings (DL101-103): ``verdict`` (held / shadowed), ``endpoint``,
``port``, ``port_source``, ``binds`` and ``clients`` (address lists), ``lost`` (the client
addresses another process answers), ``suggested_port`` (int or null) and ``listeners`` (one
dict per socket in the way: ``address``, ``port``, ``family``, ``v6only``, ``pid``,
``process``, ``cmdline``, ``uid``, ``user``, ``state`` (listen / bound / connected), ``remote``
(the far end of a connection, else null), ``known_as``, ``stale``; none when a bind probe failed
and the holder is not visible). DL104 (a port not checked): ``endpoint``, ``port``,
``port_source``, ``host``, ``host_source``, ``reason``. DL105 (an address not on this machine):
``endpoint``, ``port``, ``port_source``, ``missing`` (the addresses). Of the probe findings
(DL7xx): ``answers`` (per address: who accepted, statuses, headers), ``origin``, ``port``.
"""

from __future__ import annotations

from devlint.model import Rule, RuleTable, Severity

CODE_HELD, CODE_SHADOWED, CODE_MOVES, CODE_UNCHECKED = "DL101", "DL102", "DL103", "DL104"
CODE_NO_ADDRESS = "DL105"
CODE_UNREADABLE, CODE_TOO_DEEP = "DL301", "DL302"
CODE_PROBE_SPLIT, CODE_PROBE_PREFLIGHT, CODE_PROBE_SILENT = "DL701", "DL702", "DL703"

_PORT = ("verdict", "endpoint", "port", "port_source", "binds", "clients", "lost", "suggested_port", "listeners")
_PROBE = ("answers", "origin", "port")
MAX_DEPTH = 8  # npm scripts calling scripts calling scripts...; real stacks use 2 or 3
_UNCHECKED = ("endpoint", "port", "port_source", "host", "host_source", "reason")

RULES = RuleTable("devlint", [
    Rule(CODE_HELD, Severity.ERROR, "a port is already in use: the server's bind will fail", _PORT),
    Rule(CODE_SHADOWED, Severity.ERROR, "shadowed: another process answers on an address the service's clients use",
         _PORT),
    Rule(CODE_MOVES, Severity.WARNING, "a port is in use, but the server moves to another port by itself", _PORT),
    Rule(CODE_UNCHECKED, Severity.WARNING, "not checked: a host devlint does not turn into addresses (no DNS)",
         _UNCHECKED),
    Rule(CODE_NO_ADDRESS, Severity.ERROR, "a bind address a server cannot bind here (not one of this machine's, "
         "or link-local without its zone): the server's bind fails", ("endpoint", "port", "port_source", "missing")),
    Rule(CODE_UNREADABLE, Severity.ERROR, "a package.json the command's scripts are read from cannot be read "
         "(unreadable, not a regular file, too large, not UTF-8 or not valid JSON): what it starts is not checked",
         ("file", "line", "reason")),
    Rule(CODE_TOO_DEEP, Severity.WARNING, f"npm scripts nested more than {MAX_DEPTH} levels (wrappers count): "
         "devlint stopped following, and what the deeper scripts start is not checked",
         ("file", "line", "script", "depth")),
    Rule(CODE_PROBE_SPLIT, Severity.ERROR, "probe: 127.0.0.1 and ::1 reach different processes", _PROBE),
    Rule(CODE_PROBE_PREFLIGHT, Severity.ERROR, "probe: a browser would fail the CORS preflight", _PROBE),
    Rule(CODE_PROBE_SILENT, Severity.WARNING, "probe: nothing answers on the port", _PROBE),
])
