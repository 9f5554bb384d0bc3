"""Shared static readers for the files of the frameworks devlint knows.

Each reads text and never runs it: ``jsonc`` (JSON with comments and trailing commas, with
line/column errors and a key path → line map: firebase.json, angular.json, proxy.conf.json),
``js`` with its tokenizer ``js_tokens`` (a JavaScript expression reader for ``proxy.conf.js``
and JS/TS config files) and
``dotenv`` (python-dotenv's rules, by release). Plugins import these; the core does not.
"""
