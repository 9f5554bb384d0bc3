"""The Angular plugin's service kind and its finding codes DL601-DL609, each declared once.

Default severities are the README's (section "Angular (DL6xx)"); a finding built through
``RULES`` gets its rule's severity unless the rule says it varies (DL602 and DL603 are warnings
where ng serve still starts or devlint only skips a part it cannot read).
"""

from __future__ import annotations

from devlint.model import Rule, RuleTable, Severity

KIND = "angular"

RULES = RuleTable(KIND, [
    Rule("DL601", Severity.ERROR, "the workspace file (angular.json) is missing, unreadable or not valid JSON"),
    Rule("DL602", Severity.ERROR, "a serve option of the wrong type (port \"4300\" as a string, port 70000, "
         "--port abc); ng serve stops with a schema validation error"),
    Rule("DL603", Severity.ERROR, "the project or configuration does not exist, or ng serve cannot tell which "
         "project to serve"),
    Rule("DL604", Severity.INFO, "the port cannot be checked (port 0 is random; a custom builder sets its own)"),
    Rule("DL605", Severity.ERROR, "the proxy config file is missing or not valid JSON; ng serve stops"),
    Rule("DL606", Severity.INFO, "a proxy value is computed (process.env, a variable, a function) and cannot be "
         "read without running the file"),
    Rule("DL607", Severity.WARNING, "a proxy entry the dev server ignores or cannot use (no target, no scheme, "
         "not an object)"),
    Rule("DL608", Severity.INFO, "PORT is set, but ng serve (Angular CLI 6 and later) ignores it"),
    Rule("DL609", Severity.ERROR, "a proxy target is the dev server itself (every proxied request loops)"),
], doc="README.md#angular-dl6xx")
