"""Shared static readers: text in, data out, never anything run.

``jsonc`` (JSON with comments and trailing commas, with line/column errors and a key path →
line map: firebase.json, angular.json, proxy.conf.json), ``js`` with its tokenizer
``js_tokens`` (a JavaScript expression reader for ``proxy.conf.js`` and JS/TS config files),
``dotenv`` (python-dotenv's rules, by release) and ``shell`` (the words and operators of an
npm script, which the core's commands.py reads). The plugins import these freely.
"""
