"""A tiny JSON API that a browser app on http://localhost:4200 calls.

CORS allows only the Angular dev server's origin, so a request that reaches a
different process on this port (macOS AirPlay on *:5000, say) fails its CORS
preflight in the browser: the bug devlint exists to catch before it happens.
"""

from __future__ import annotations

from flask import Flask, jsonify, request
from flask_cors import CORS

app = Flask(__name__)
CORS(app, origins=["http://localhost:4200"])


@app.get("/health")
def health():  # type: ignore[no-untyped-def]
    return jsonify(status="ok")


@app.post("/sample")
def sample():  # type: ignore[no-untyped-def]
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return jsonify(error="expected a JSON object"), 400
    return jsonify(received=payload, server="flask")
