"""devlint's built-in plugins, installed as the ``devlint_plugins`` package.

Each module here is registered through the ``devlint`` entry-point group and uses only
the public hook API (``devlint.hookspecs``), exactly as a third-party plugin would.
"""
