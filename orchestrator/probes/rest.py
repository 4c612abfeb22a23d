"""Append-only probe for a REST repository server (rest-server, `rclone serve restic`).

A server in append-only mode refuses every DELETE outside `locks/` with 403. We list `keys/` (a read,
which also proves the path is a repository and the credentials work), then ask to DELETE a random key
name that is not in the listing: nothing exists under that name, so the request changes nothing
whatever the mode. `config` and `locks/` are never touched.
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from orchestrator.probes import INCONCLUSIVE, PROTECTED, UNPROTECTED, ProbeResult
from orchestrator.redact import Redactor

METHOD = "rest-delete-random-key"
V2_MEDIA_TYPE = "application/vnd.x.restic.rest.v2"
BODY_CHARACTERS = 200


@dataclass(frozen=True)
class HttpAnswer:
    status: int | None
    body: str
    error: str | None = None


def probe(repository_string: str, timeout: float, redactor: Redactor) -> ProbeResult:
    """Given a `rest:` repository string, return whether the server refuses deletion (append-only)."""
    base, authorization = split_credentials(repository_string.removeprefix("rest:"))
    shown_base = redactor.redact(base)
    listing = _request("GET", f"{base}/keys/", authorization, timeout, redactor)
    raw: dict[str, object] = {"listing": {"request": f"GET {shown_base}/keys/", "status": listing.status,
                                          "error": listing.error}}
    names = _key_names(listing.body) if listing.status == 200 else None
    if not names:
        # A repository always holds at least one key; an empty list means no repository lives here.
        return ProbeResult(METHOD, INCONCLUSIVE, None, _listing_problem(listing), raw)
    raw["listing"] = {**raw["listing"], "keys": len(names)}  # type: ignore[dict-item]
    name = secrets.token_hex(32)
    while name in names:
        name = secrets.token_hex(32)
    answer = _request("DELETE", f"{base}/keys/{name}", authorization, timeout, redactor)
    raw["delete"] = {"request": f"DELETE {shown_base}/keys/{name}", "status": answer.status,
                     "body": answer.body[:BODY_CHARACTERS], "error": answer.error,
                     "note": "random key name absent from the listing: nothing existed to delete"}
    return ProbeResult(METHOD, *interpret_delete(answer), raw=raw)


def interpret_delete(answer: HttpAnswer) -> tuple[str, str | None, str]:
    """Given the answer to a DELETE of a non-existent key, return (verdict, protection, summary)."""
    if answer.status == 403:
        return PROTECTED, "append-only", "the server refused a DELETE under keys/ with 403: append-only"
    if answer.status in (200, 204, 404):
        return (UNPROTECTED, None, f"the server processed a DELETE under keys/ (HTTP {answer.status}): "
                                   "it is not append-only and deletion is allowed")
    if answer.status is None:
        return INCONCLUSIVE, None, f"the DELETE probe got no answer: {answer.error}"
    return INCONCLUSIVE, None, f"the DELETE probe got HTTP {answer.status}, which says nothing about append-only"


def split_credentials(url: str) -> tuple[str, str | None]:
    """Given an http(s) URL, return it without user-info and trailing slash, and a Basic auth header or None."""
    parts = urlsplit(url)
    authorization = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", "")), authorization


def _request(method: str, url: str, authorization: str | None, timeout: float, redactor: Redactor) -> HttpAnswer:
    headers = {"Accept": V2_MEDIA_TYPE, "User-Agent": "restoreproof-probe"}
    if authorization:
        headers["Authorization"] = authorization
    request = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=ssl.create_default_context()) as response:
            return HttpAnswer(response.status, response.read(1 << 20).decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        return HttpAnswer(error.code, redactor.redact(error.read(4096).decode("utf-8", "replace")))
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return HttpAnswer(None, "", redactor.redact(str(reason)))


def _key_names(body: str) -> set[str] | None:
    try:
        items = json.loads(body)
    except json.JSONDecodeError:
        return None
    if not isinstance(items, list):
        return None
    return {str(item.get("name") if isinstance(item, dict) else item) for item in items}


def _listing_problem(listing: HttpAnswer) -> str:
    if listing.status is None:
        return f"the REST server did not answer: {listing.error}"
    if listing.status == 401:
        return "the REST server refused the credentials (HTTP 401); nothing was probed"
    if listing.status == 404:
        return "no repository at this path (HTTP 404 listing keys/); nothing was probed"
    if listing.status == 200:
        return "listing keys/ found no key: no repository at this path; nothing was probed"
    return f"listing keys/ answered HTTP {listing.status}, not a key list; nothing was probed"
