"""Asking the API server what an identity may do, without doing it: dry-run requests sent
with Impersonate-* headers.

The Python client keeps one value per header, while impersonation may need several groups
or extra values, so the request goes through the client's own connection pool (its TLS and
credentials) with a multi-valued header dict. ``dryRun=All`` runs authorization and every
admission check (ValidatingAdmissionPolicies included) and stores nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from urllib3 import HTTPHeaderDict

from dra_conformance.profiles.model import NodeIdentity


@dataclass(frozen=True)
class Answer:
    status: int
    message: str

    @property
    def allowed(self) -> bool:
        return 200 <= self.status < 300

    def __str__(self) -> str:
        return f"{self.status} {self.message}".strip()


def headers(api_client: Any, identity: NodeIdentity) -> HTTPHeaderDict:
    """The client's own credentials plus the impersonation of ``identity``."""
    sent = HTTPHeaderDict({"Content-Type": "application/json", "Accept": "application/json"})
    for setting in api_client.configuration.auth_settings().values():
        if setting.get("in") == "header" and setting.get("value"):
            sent[setting["key"]] = setting["value"]
    sent["Impersonate-User"] = identity.user
    for group in identity.groups:
        sent.add("Impersonate-Group", group)
    for key, values in identity.extra.items():
        for value in values:
            sent.add(f"Impersonate-Extra-{quote(key, safe='')}", value)
    return sent


def dry_run(api_client: Any, identity: NodeIdentity, method: str, path: str,
            body: dict[str, Any] | None = None) -> Answer:
    """``method path`` as ``identity``, with dryRun=All; the status and the server's message."""
    url = f"{api_client.configuration.host}{path}?dryRun=All"
    response = api_client.rest_client.pool_manager.request(
        method, url, body=json.dumps(body).encode() if body is not None else None,
        headers=headers(api_client, identity), timeout=30, preload_content=True)
    try:
        message = str(json.loads(response.data or b"{}").get("message", ""))
    except ValueError:
        message = response.data.decode(errors="replace")[:300]
    return Answer(int(response.status), message)
