"""The Flask plugin's identity: the service kind it owns and its finding codes DL400-DL409.

Every code is declared once here, with the default severity README.md's "### Flask (DL4xx)"
table gives (tests/test_docs.py checks the two agree); every finding is built through
``RULES(code, message, ...)``.
"""

from __future__ import annotations

from devlint.model import Rule, RuleTable, Severity

KIND = "flask"

RULES = RuleTable(KIND, [
    Rule("DL400", Severity.ERROR, "a Flask file (.flaskenv, .env, --env-file, the app) is missing or cannot be read",
         ("file",)),
    # debug_source: where debug mode was turned on, as text (`flag --debug`, `.flaskenv:2 FLASK_DEBUG`).
    Rule("DL401", Severity.WARNING, "debug mode with the Werkzeug debugger on a public host (0.0.0.0 / ::)",
         ("host", "port", "debug_source")),
    Rule("DL402", Severity.INFO, "port 5000 or 7000 on macOS, where the AirPlay Receiver listens", ("port",)),
    # value: the port as the text Flask reads; source: where that text came from, as text.
    Rule("DL403", Severity.ERROR, "a port or host value flask would reject (FLASK_RUN_PORT=abc, port 70000)",
         ("value", "source")),
    # value: the port as written, for port 0; expression: the code devlint could not evaluate, cut to 80 characters.
    Rule("DL404", Severity.WARNING, "a value in the app source cannot be read statically (or port=0); "
                                    "a default was assumed", ("file", "line", "expression", "value")),
    Rule("DL405", Severity.WARNING, "a dotenv line python-dotenv cannot parse (Flask skips it)", ("file", "line")),
    # key: the variable the BOM hides.
    Rule("DL406", Severity.WARNING, "a dotenv file starts with a UTF-8 BOM, so its first variable is ignored "
                                    "(python-dotenv before 1.2.3)", ("file", "line", "key")),
    # variable: FLASK_RUN_PORT or FLASK_RUN_HOST; value: what it is set to.
    Rule("DL407", Severity.INFO, "FLASK_RUN_PORT/FLASK_RUN_HOST are set but the command (python app.py) ignores them",
         ("variable", "value")),
    Rule("DL408", Severity.INFO, "flask-cors origins= cannot be read statically; CORS is not checked for this service",
         ("file", "line")),
    # key: the devlint.toml key, as services.NAME.KEY.
    Rule("DL409", Severity.ERROR, "a flask setting in devlint.toml has the wrong type", ("key",)),
], doc="README.md#flask-dl4xx")
