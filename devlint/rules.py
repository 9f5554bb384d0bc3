"""The core's finding codes: what the port verdicts (DL1xx) and `probe` (DL7xx) report.

Declared once here, with their default severity; the plugins declare theirs in their own
rule tables (the stack checks DL2xx, Flask DL4xx, Firebase DL5xx, Angular DL6xx). The
README's code tables are checked against all of them (tests/test_docs.py).
"""

from __future__ import annotations

from devlint.model import Rule, RuleTable, Severity

HELD, SHADOWED, MOVES = "DL101", "DL102", "DL103"
PROBE_SPLIT, PROBE_PREFLIGHT, PROBE_SILENT = "DL701", "DL702", "DL703"

RULES = RuleTable("devlint", [
    Rule(HELD, Severity.ERROR, "a port is already in use: the server's bind will fail"),
    Rule(SHADOWED, Severity.ERROR, "shadowed: another process answers on an address the service's clients use"),
    Rule(MOVES, Severity.WARNING, "a port is in use, but the server moves to another port by itself"),
    Rule(PROBE_SPLIT, Severity.ERROR, "probe: 127.0.0.1 and ::1 reach different processes"),
    Rule(PROBE_PREFLIGHT, Severity.ERROR, "probe: a browser would fail the CORS preflight"),
    Rule(PROBE_SILENT, Severity.WARNING, "probe: nothing answers on the port"),
])
