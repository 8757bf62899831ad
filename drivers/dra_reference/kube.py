"""The few API server calls the driver makes, as JSON over one pooled HTTPS connection.

The driver reads Nodes and ResourceClaims and keeps its ResourceSlices: get, list, create,
replace, delete and watch of three kinds, no more. The official Python client answers those
through 915 generated modules and validated model objects: in the plugin it held 44 of its
94 MiB resident (the package 18, ResourceV1Api 6, CoreV1Api 20), and validating a claim into
models took a seventh of the plugin's Python time in a prepare. Here objects stay the API
server's JSON (what the code reads is named as the API names it), and urllib3, which the
official client uses too, carries the requests. ``make bench-drivers`` prints the memory.

Credentials come from a kubeconfig (its current context: server, CA, client certificate and
key or bearer token, and the impersonation fields kubectl honours) or from the pod's service
account (whose token is re-read as the kubelet rotates it). Exec and auth-provider plugins
are refused at start with a message saying what to use instead.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import urllib3
import yaml

from dra_reference.errors import ConfigurationError

JSON = dict[str, Any]
SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
TOKEN_REREAD_SECONDS = 60.0  # the kubelet rotates projected tokens well before they expire


class ApiError(Exception):
    """The API server answered with an error status; ``reason`` is its Status message."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status}: {reason}")
        self.status = status
        self.reason = reason


@dataclass
class KubeAPI:
    """Requests to ``server`` with fixed headers and, for a service account, a token file."""

    server: str
    pool: urllib3.PoolManager
    headers: dict[str, str] = field(default_factory=dict)
    token_file: Path | None = None
    _token: tuple[float, str] = field(default=(0.0, ""), init=False)  # (read at, token)
    _token_lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def get(self, path: str, *, query: Mapping[str, str] | None = None,
            timeout: float = 10.0) -> JSON:
        return self.request("GET", path, query=query, timeout=timeout)

    def create(self, path: str, body: JSON, *, timeout: float = 10.0) -> JSON:
        return self.request("POST", path, body=body, timeout=timeout)

    def replace(self, path: str, body: JSON, *, timeout: float = 10.0) -> JSON:
        return self.request("PUT", path, body=body, timeout=timeout)

    def delete(self, path: str, *, timeout: float = 10.0) -> JSON:
        return self.request("DELETE", path, timeout=timeout)

    def request(self, method: str, path: str, *, query: Mapping[str, str] | None = None,
                body: JSON | None = None, timeout: float = 10.0) -> JSON:
        response = self.pool.request(
            method, self._url(path, query), headers=self._headers(body is not None),
            body=None if body is None else json.dumps(body).encode(),
            timeout=urllib3.Timeout(total=timeout), retries=False)
        return _answer(response.status, response.data)

    def watch(self, path: str, *, query: Mapping[str, str], timeout: float) -> Iterator[JSON]:
        """The events of a watch (``{"type": ..., "object": ...}``) until the server ends it;
        an ERROR event (410 Gone: the resourceVersion is too old) raises ApiError."""
        response = self.pool.request(
            "GET", self._url(path, {**query, "watch": "true"}), headers=self._headers(False),
            timeout=urllib3.Timeout(connect=timeout, read=timeout), retries=False,
            preload_content=False)
        try:
            if response.status != 200:
                _answer(response.status, response.read())
            for line in response:
                if not line.strip():
                    continue
                event: JSON = json.loads(line)
                if event.get("type") == "ERROR":
                    status = event.get("object") or {}
                    raise ApiError(int(status.get("code") or 500),
                                   str(status.get("message") or status))
                yield event
        finally:
            # not back to the pool: a watch left early has unread events on its connection
            response.close()

    def _url(self, path: str, query: Mapping[str, str] | None) -> str:
        return self.server + path + (f"?{urlencode(query)}" if query else "")

    def _headers(self, has_body: bool) -> dict[str, str]:
        headers = {"Accept": "application/json", **self.headers}
        if has_body:
            headers["Content-Type"] = "application/json"
        if self.token_file is not None:
            headers["Authorization"] = f"Bearer {self._current_token()}"
        return headers

    def _current_token(self) -> str:
        assert self.token_file is not None  # noqa: S101 (the caller checked)
        with self._token_lock:
            read_at, token = self._token
            if time.monotonic() - read_at > TOKEN_REREAD_SECONDS or not token:
                token = self.token_file.read_text().strip()
                self._token = (time.monotonic(), token)
            return token


def _answer(status: int, data: bytes) -> JSON:
    try:
        document = json.loads(data) if data else {}
    except ValueError as exc:
        if 200 <= status <= 299:
            raise ApiError(status, f"the answer is not JSON ({exc})") from exc
        document = {"message": data[:200].decode(errors="replace")}
    if not 200 <= status <= 299:
        raise ApiError(status, str(document.get("message") or document.get("reason") or
                                   "no reason given"))
    if not isinstance(document, dict):
        raise ApiError(status, "the answer is not a JSON object")
    return document


def path(group_version: str, resource: str, name: str = "", namespace: str = "") -> str:
    """``/api/v1/nodes/x``, ``/apis/resource.k8s.io/v1/namespaces/ns/resourceclaims/y``."""
    base = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
    where = f"/namespaces/{quote(namespace, safe='')}" if namespace else ""
    return f"{base}{where}/{resource}" + (f"/{quote(name, safe='')}" if name else "")


def api_client(kubeconfig: Path | None) -> KubeAPI:
    """A client for ``kubeconfig``, else the pod's service account, else ~/.kube/config."""
    if kubeconfig is not None:
        return from_kubeconfig(kubeconfig)
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        return in_cluster()
    return from_kubeconfig(Path(os.environ.get("KUBECONFIG") or "~/.kube/config").expanduser())


def in_cluster() -> KubeAPI:
    host = os.environ.get("KUBERNETES_SERVICE_HOST", "")
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    token = SERVICE_ACCOUNT / "token"
    if not token.is_file():
        raise ConfigurationError(f"cannot load Kubernetes credentials from the in-cluster "
                                 f"service account: {token} is missing; mount the service "
                                 "account token (automountServiceAccountToken) or pass "
                                 "--kubeconfig")
    context = ssl.create_default_context(cafile=str(SERVICE_ACCOUNT / "ca.crt"))
    server = f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"
    return KubeAPI(server, _pool(context), token_file=token)


def from_kubeconfig(kubeconfig: Path) -> KubeAPI:
    try:
        document = yaml.safe_load(kubeconfig.read_text()) or {}
        return _from_document(document, kubeconfig.parent)
    except (OSError, ValueError, KeyError, TypeError, ssl.SSLError,
            yaml.YAMLError) as exc:
        raise ConfigurationError(f"cannot load Kubernetes credentials from {kubeconfig}: "
                                 f"{exc}; pass --kubeconfig or run in a pod") from exc


def _from_document(document: JSON, folder: Path) -> KubeAPI:
    context = _named(document, "contexts", document.get("current-context"), "context")
    cluster = _named(document, "clusters", context.get("cluster"), "cluster")
    user = _named(document, "users", context.get("user"), "user")
    for plugin in ("exec", "auth-provider"):
        if user.get(plugin):
            raise ValueError(f"the user's {plugin} credential plugin is not supported by this "
                             "driver; give it client certificates, a token or a tokenFile")
    server = str(cluster["server"]).rstrip("/")
    ca = _pem(cluster, "certificate-authority", folder)
    # the cluster's CA alone when it names one; the system's otherwise
    tls = ssl.create_default_context(cadata=ca.decode() if ca else None)
    if cluster.get("insecure-skip-tls-verify"):
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
    certificate = _pem(user, "client-certificate", folder)
    key = _pem(user, "client-key", folder)
    if certificate and key:
        _load_cert_chain(tls, certificate, key)
    headers = impersonation_headers(user)
    if user.get("token"):
        headers["Authorization"] = f"Bearer {user['token']}"
    token_file = Path(folder, user["tokenFile"]) if user.get("tokenFile") else None
    return KubeAPI(server, _pool(tls), headers, token_file)


def _named(document: JSON, section: str, name: object, key: str) -> JSON:
    for item in document.get(section) or ():
        if item.get("name") == name:
            found: JSON = item.get(key) or {}
            return found
    raise ValueError(f"no {section[:-1]} named {name!r} (current-context "
                     f"{document.get('current-context')!r})")


def _pem(section: JSON, key: str, folder: Path) -> bytes | None:
    """``<key>-data`` (base64) or the file ``<key>`` (relative to the kubeconfig)."""
    if section.get(f"{key}-data"):
        return base64.b64decode(section[f"{key}-data"])
    if section.get(key):
        return Path(folder, section[key]).read_bytes()
    return None


def _load_cert_chain(tls: ssl.SSLContext, certificate: bytes, key: bytes) -> None:
    """ssl reads a certificate and key only from files: private ones, removed at once."""
    with tempfile.TemporaryDirectory(prefix="dra-tls-") as folder:
        cert_file, key_file = Path(folder, "tls.crt"), Path(folder, "tls.key")
        for target, content in ((cert_file, certificate), (key_file, key)):
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(content)
        tls.load_cert_chain(str(cert_file), str(key_file))


def _pool(tls: ssl.SSLContext) -> urllib3.PoolManager:
    # each plugin thread that calls the API server may hold a connection
    return urllib3.PoolManager(num_pools=2, maxsize=8, ssl_context=tls)


def impersonation_headers(user: JSON) -> dict[str, str]:
    """The Impersonate-* headers a kubeconfig user asks for (none: empty)."""
    headers: dict[str, str] = {}
    if user.get("as"):
        headers["Impersonate-User"] = str(user["as"])
    groups = list(user.get("as-groups") or ())
    extra = dict(user.get("as-user-extra") or {})
    if groups and not headers:
        raise ValueError("as-groups without as: name the user to impersonate")
    if len(groups) > 1 or any(len(values or ()) > 1 for values in extra.values()):
        raise ValueError("this driver sends at most one as-groups entry and one value per "
                         "as-user-extra key")
    if groups:
        headers["Impersonate-Group"] = str(groups[0])
    for key, values in extra.items():
        if values:
            headers[f"Impersonate-Extra-{quote(str(key), safe='')}"] = str(values[0])
    return headers


def node_uid(api: KubeAPI, node_name: str) -> str:
    """The Node's UID, for the slices' owner reference (they go when the Node goes)."""
    try:
        node = api.get(path("v1", "nodes", node_name))
    except ApiError as exc:
        if exc.status == 404:
            raise ConfigurationError(f"node {node_name!r} does not exist; pass the name the "
                                     "kubelet registered (--node-name, usually "
                                     "spec.nodeName via the downward API)") from exc
        raise ConfigurationError(f"reading node {node_name!r}: {exc}") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise ConfigurationError(f"cannot reach the API server to read node {node_name!r}: "
                                 f"{exc}") from exc
    return str((node.get("metadata") or {}).get("uid") or "")
