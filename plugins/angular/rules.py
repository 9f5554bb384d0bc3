"""The Angular plugin's service kind and its finding codes DL601-DL609, each declared once.

Default severities are the README's (section "Angular (DL6xx)"); a finding built through
``RULES`` gets its rule's severity unless the rule says it varies (DL602 and DL603 are warnings
where ng serve still starts or devlint only skips a part it cannot read).
"""

from __future__ import annotations

from devlint.model import Rule, RuleTable, Severity

KIND = "angular"

# Evidence keys: file, line and key name a value in a file; key is its path (angular.json
# `projects.web.architect.serve.options.port`, a proxy config's `/api.target` or `[0].target`,
# devlint.toml's `services.NAME.KEY`).
RULES = RuleTable(KIND, [
    # column: where the JSON parser stopped (invalid JSON only).
    Rule("DL601", Severity.ERROR, "the workspace file (angular.json) is missing, unreadable or not valid JSON",
         ("file", "line", "column")),
    # value: a port ng serve rejects (`--port abc`, 70000); source: where a non-number came from, as text.
    Rule("DL602", Severity.ERROR, "a serve option of the wrong type (port \"4300\" as a string, port 70000, "
         "--port abc); ng serve stops with a schema validation error", ("file", "line", "key", "value", "source"),
         also=(Severity.WARNING,)),
    # projects: the projects with a serve target, when none is named (the warning).
    Rule("DL603", Severity.ERROR, "the project or configuration does not exist, or ng serve cannot tell which "
         "project to serve", ("file", "project", "projects", "configuration"), also=(Severity.WARNING,)),
    # builder: the serve target's builder, which sets its own port; port: 0.
    Rule("DL604", Severity.INFO, "the port cannot be checked (port 0 is random; a custom builder sets its own)",
         ("builder", "port")),
    Rule("DL605", Severity.ERROR, "the proxy config file is missing or not valid JSON; ng serve stops",
         ("file", "line", "column")),
    Rule("DL606", Severity.INFO, "a proxy value is computed (process.env, a variable, a function) and cannot be "
         "read without running the file", ("file", "line", "key")),
    Rule("DL607", Severity.WARNING, "a proxy entry the dev server ignores or cannot use (no target, no scheme, "
         "not an object)", ("file", "line", "key")),
    # port: PORT's value as the environment gives it (a number when it is digits, else the text).
    Rule("DL608", Severity.INFO, "PORT is set, but ng serve (Angular CLI 6 and later) ignores it", ("port",)),
    # target: the proxy target's URL.
    Rule("DL609", Severity.ERROR, "a proxy target is the dev server itself (every proxied request loops)",
         ("target", "port")),
], doc="README.md#angular-dl6xx")
