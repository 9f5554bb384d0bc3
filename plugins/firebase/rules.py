"""The Firebase plugin's finding codes (DL5xx), each declared once with its default severity.

The severities are the README's (section "Firebase (DL5xx)"); tests/test_docs.py checks the two
agree. Every finding of this plugin is built through ``RULES("DL5xx", ...)``. Also the name of
the service kind this plugin owns.
"""

from __future__ import annotations

from devlint.model import Rule, RuleTable, Severity

KIND = "firebase"

RULES = RuleTable(KIND, [
    # column: where the JSON parser stopped (invalid JSON only).
    Rule("DL501", Severity.ERROR, "firebase.json is missing, unreadable or not valid JSON", ("file", "line", "column")),
    # key: the value's dotted path (`emulators.auth.port`, devlint.toml's `services.NAME.KEY`).
    Rule("DL502", Severity.ERROR, "a value of the wrong type in firebase.json or devlint.toml", ("file", "line", "key"),
         also=(Severity.WARNING,)),
    # emulators: the listeners on the port, by name; lines: the line that sets each one's port, in
    # the same order (null for a default port).
    Rule("DL503", Severity.ERROR, "two emulators on the same port (a warning when one moves by itself)",
         ("port", "emulators", "lines"), also=(Severity.WARNING,)),
    # only: the name --only (or devlint.toml's `only`) gives; an error when it is no emulator at all.
    Rule("DL504", Severity.WARNING, "--only names an emulator firebase.json does not configure", ("only",),
         also=(Severity.ERROR,)),
    Rule("DL505", Severity.WARNING, "an emulator is configured but firebase-tools will not start it", ("emulator",)),
    Rule("DL506", Severity.WARNING, "hosting on port 5001, which firebase-tools never gives to hosting", ("port",)),
    Rule("DL507", Severity.ERROR, "no emulator to start", ("file",)),
], doc="README.md#firebase-dl5xx")
