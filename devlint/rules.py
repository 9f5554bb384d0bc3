"""The core's finding codes: what the port verdicts (DL1xx) and `probe` (DL7xx) report.

Declared once here, with their default severity and evidence keys; the plugins declare theirs
in their own rule tables (the stack checks DL2xx, Flask DL4xx, Firebase DL5xx, Angular DL6xx).
The README's code tables are checked against all of them (tests/test_docs.py).

Evidence of the port findings (DL101-103): ``verdict`` (held / shadowed), ``endpoint``,
``port``, ``port_source``, ``binds`` and ``clients`` (address lists), ``lost`` (the client
addresses another process answers), ``suggested_port`` (int or null) and ``listeners`` (one
dict per socket in the way: ``address``, ``port``, ``family``, ``v6only``, ``pid``,
``process``, ``cmdline``, ``uid``, ``user``, ``known_as``, ``stale``). Of the probe findings
(DL7xx): ``answers`` (per address: who accepted, statuses, headers), ``origin``, ``port``.
"""

from __future__ import annotations

from devlint.model import Rule, RuleTable, Severity

CODE_HELD, CODE_SHADOWED, CODE_MOVES = "DL101", "DL102", "DL103"
CODE_PROBE_SPLIT, CODE_PROBE_PREFLIGHT, CODE_PROBE_SILENT = "DL701", "DL702", "DL703"

_PORT = ("verdict", "endpoint", "port", "port_source", "binds", "clients", "lost", "suggested_port", "listeners")
_PROBE = ("answers", "origin", "port")

RULES = RuleTable("devlint", [
    Rule(CODE_HELD, Severity.ERROR, "a port is already in use: the server's bind will fail", _PORT),
    Rule(CODE_SHADOWED, Severity.ERROR, "shadowed: another process answers on an address the service's clients use",
         _PORT),
    Rule(CODE_MOVES, Severity.WARNING, "a port is in use, but the server moves to another port by itself", _PORT),
    Rule(CODE_PROBE_SPLIT, Severity.ERROR, "probe: 127.0.0.1 and ::1 reach different processes", _PROBE),
    Rule(CODE_PROBE_PREFLIGHT, Severity.ERROR, "probe: a browser would fail the CORS preflight", _PROBE),
    Rule(CODE_PROBE_SILENT, Severity.WARNING, "probe: nothing answers on the port", _PROBE),
])
