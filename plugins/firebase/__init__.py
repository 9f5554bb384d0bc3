"""devlint's built-in firebase plugin (registered as devlint_plugins.firebase.hooks)."""
