"""What the dashboard's server checks before any request reaches a route or a Dash callback.

- ``Host``: only the names the server was started for (loopback names by default), so a page on
  another site cannot reach it through DNS rebinding.
- Access token, when one is set (required to bind to a non-loopback address): ``?token=`` once,
  then a cookie (HttpOnly, SameSite=Strict), or ``Authorization: Bearer <token>``.
- State-changing requests (POST, ...): a JSON body only (a cross-site HTML form cannot send one
  without the browser asking first) and, when the browser says where it comes from (``Origin``,
  ``Sec-Fetch-Site``), the server's own origin only.
- Dash's callback endpoint: a body shaped as Dash's page sends it, for a callback the app has,
  with the callback's own inputs, not nested deeper than :data:`MAX_DEPTH`; else 400 with the reason.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable
from typing import Any

from flask import Flask, jsonify, redirect, request

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
COOKIE = "callao_token"
MAX_BODY_BYTES = 1_000_000
MAX_DEPTH = 12
DASH_CALLBACK = "/_dash-update-component"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def host_name(host: str) -> str:
    """``example.org:8050`` → ``example.org``; ``[::1]:8050`` → ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _error(status: int, message: str):
    resp = jsonify({"error": message, "status": status})
    resp.status_code = status
    return resp


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a JSON value, counted up to ``limit + 1`` (no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (dict, list)):
            deepest = max(deepest, d)
            if deepest > limit:
                return deepest
            stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
    return deepest


class Guard:
    """The checks, installed on a Flask server with :meth:`install`.

    ``hosts``: the host names accepted in ``Host`` (None: any, for a server behind a proxy or bound
    to every interface with a token); ``token``: the access token, or None for no token;
    ``callbacks``: Dash's callback map (output key → its inputs and state)."""

    def __init__(self, hosts: Iterable[str] | None, token: str | None, callbacks: dict[str, dict]):
        self.hosts = None if hosts is None else frozenset(h.lower() for h in hosts)
        self.token = token
        self.callbacks = callbacks

    def install(self, server: Flask) -> None:
        server.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
        server.before_request(self.check)

    def check(self):
        """None to let the request through, or the refusal."""
        host = host_name(request.host or "")
        if self.hosts is not None and host not in self.hosts:
            return _error(400, f"unexpected Host {request.host[:80]!r}: expected one of {sorted(self.hosts)} "
                               "(start callao serve with --host NAME to serve under another name)")
        if self.token is not None:
            refusal = self._authenticate()
            if refusal is not None:
                return refusal
        if request.method not in SAFE_METHODS:
            refusal = self._same_origin_json()
            if refusal is not None:
                return refusal
            if request.path == DASH_CALLBACK:
                return self._dash_body()
        return None

    def _authenticate(self):
        given = request.args.get("token")
        if given is not None and hmac.compare_digest(given.encode(), self.token.encode()):
            if request.method in SAFE_METHODS:  # the link printed at start: keep it as a cookie
                resp = redirect(request.path, code=303)
                resp.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict")
                return resp
            return None
        header = request.headers.get("Authorization", "")
        bearer = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        cookie = request.cookies.get(COOKIE, "")
        for candidate in (bearer, cookie):
            if candidate and hmac.compare_digest(candidate.encode(), self.token.encode()):
                return None
        return _error(401, "access token required: open the link callao serve printed at start "
                           "(…/?token=…) or send 'Authorization: Bearer <token>'")

    def _same_origin_json(self):
        own = f"{request.scheme}://{request.host}"
        origin = request.headers.get("Origin")
        if origin is not None and origin != own:
            return _error(403, f"cross-origin request from {origin[:80]!r} refused: expected {own}")
        if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            return _error(403, "cross-site request refused (Sec-Fetch-Site: "
                               f"{request.headers.get('Sec-Fetch-Site')[:40]})")
        if request.mimetype != "application/json":
            return _error(415, f"expected a JSON body (Content-Type: application/json), got "
                               f"{(request.mimetype or 'none')[:60]!r}; form posts are refused")
        return None

    def _dash_body(self):
        try:
            body = json.loads(request.get_data(cache=True) or b"null")
        except RecursionError:
            return _error(400, f"callback body: nested deeper than {MAX_DEPTH} levels")
        except ValueError:
            return _error(400, "callback body: not valid JSON")
        if _depth(body, MAX_DEPTH) > MAX_DEPTH:
            return _error(400, f"callback body: nested deeper than {MAX_DEPTH} levels")
        if not isinstance(body, dict):
            return _error(400, f"callback body: a JSON {type(body).__name__}; expected an object "
                               "{output, outputs, inputs, changedPropIds, state}")
        output = body.get("output")
        if not isinstance(output, str) or not output:
            return _error(400, "callback body: 'output' missing; expected the callback's output key")
        spec = self.callbacks.get(output)
        if spec is None:
            return _error(400, f"callback body: unknown output {output[:80]!r}")
        for part in ("inputs", "state"):
            given = body.get(part, [])
            if not isinstance(given, list) or not all(
                    isinstance(x, dict) and isinstance(x.get("id"), (str, dict)) and isinstance(x.get("property"), str)
                    for x in given):
                return _error(400, f"callback body: '{part}' must be a list of {{id, property, value}}")
            want = [(x["id"], x["property"]) for x in spec.get(part, [])]
            have = [(x["id"], x["property"]) for x in given]
            if have != want:
                return _error(400, f"callback body: '{part}' {have[:6]} do not match the callback's {want}")
        n_out = len(output.strip(".").split("...")) if output.startswith("..") else 1
        outputs = body.get("outputs")
        if not (isinstance(outputs, dict) if n_out == 1 else isinstance(outputs, list) and len(outputs) == n_out):
            return _error(400, f"callback body: 'outputs' must be {'an object' if n_out == 1 else f'a list of {n_out}'} "
                               "as the callback declares")
        changed = body.get("changedPropIds", [])
        if not isinstance(changed, list) or not all(isinstance(x, str) for x in changed):
            return _error(400, "callback body: 'changedPropIds' must be a list of strings")
        return None
