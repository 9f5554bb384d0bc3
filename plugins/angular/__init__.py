"""devlint's built-in angular plugin (registered as devlint_plugins.angular.hooks)."""
