"""devlint's built-in Angular plugin (registered as devlint_plugins.angular.hooks).

What `ng serve` will do, read the way the Angular CLI (21.x) reads it, one module a concern:

- ``hooks``: the plugin's hook functions, and nothing else.
- ``rules``: the kind ``angular`` and the codes DL601-DL609.
- ``cli``: the ``ng serve`` / ``ng run project:serve`` command line.
- ``workspace``: angular.json (JSONC, found by walking up) and the legacy ``.angular-cli.json``.
- ``target``: which project, configurations and serve options ng serve uses (defaults: port
  4200, host localhost; ``PORT`` is ignored since Angular CLI 6, read only by 1.x workspaces).
- ``serve``: the service: endpoint, origin, proxy upstreams; also a devlint.toml service.
- ``proxy``: proxy configs (``.json``, or ``.js`` read statically with ``devlint.readers.js``).
- ``checks``: a proxy target that loops back into the dev server; an `ng serve` in the way.

A busy port stops ng serve (it asks, or exits, but never moves by itself), so it is an error;
``port 0`` is random and cannot be checked.
"""
