"""devlint's built-in flask plugin (registered as devlint_plugins.flask.hooks)."""
