"""Connecting to the API server: a kubeconfig when given, the pod's service account otherwise.

Decided once at start, with an error that says which source was tried: a driver that runs
without being able to publish its slices is invisible to the scheduler, so failing to start
is the better outcome. A kubeconfig user's impersonation fields (``as``, ``as-groups``,
``as-user-extra``, as kubectl reads them) are honoured, so a driver run outside a pod can
still act as its least-privileged service account, node name included; the Python client
sends one value per header, so at most one group and one value per extra key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import urllib3
import yaml
from kubernetes import client
from kubernetes import config as _config
from kubernetes.client.exceptions import ApiException

from dra_reference.errors import ConfigurationError

config: Any = _config  # the loaders are untyped


def api_client(kubeconfig: Path | None) -> Any:
    """An ``ApiClient`` for ``kubeconfig``, the in-cluster service account, or ~/.kube/config."""
    try:
        if kubeconfig is not None:
            api = config.new_client_from_config(config_file=str(kubeconfig),
                                                persist_config=False)
            for name, value in impersonation_headers(kubeconfig).items():
                api.set_default_header(name, value)
            return api
        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)
            return client.ApiClient(configuration)
        return config.new_client_from_config(persist_config=False)
    except (config.ConfigException, OSError, ValueError, yaml.YAMLError) as exc:
        source = kubeconfig or ("the in-cluster service account"
                                if os.environ.get("KUBERNETES_SERVICE_HOST")
                                else "~/.kube/config")
        raise ConfigurationError(f"cannot load Kubernetes credentials from {source}: {exc}; "
                                 "pass --kubeconfig or run in a pod") from exc


def impersonation_headers(kubeconfig: Path) -> dict[str, str]:
    """The Impersonate-* headers the current context's user asks for (none: empty)."""
    document = yaml.safe_load(kubeconfig.read_text()) or {}
    context = next((c.get("context") or {} for c in document.get("contexts") or ()
                    if c.get("name") == document.get("current-context")), {})
    user = next((u.get("user") or {} for u in document.get("users") or ()
                 if u.get("name") == context.get("user")), {})
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


def node_uid(api: Any, node_name: str) -> str:
    """The Node's UID, for the slices' owner reference (they go when the Node goes)."""
    try:
        node = client.CoreV1Api(api).read_node(node_name, _request_timeout=10)
    except ApiException as exc:
        if exc.status == 404:
            raise ConfigurationError(f"node {node_name!r} does not exist; pass the name the "
                                     "kubelet registered (--node-name, usually "
                                     "spec.nodeName via the downward API)") from exc
        raise ConfigurationError(f"reading node {node_name!r}: HTTP {exc.status} "
                                 f"{exc.reason}") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise ConfigurationError(f"cannot reach the API server to read node {node_name!r}: "
                                 f"{exc}") from exc
    return str(node.metadata.uid if node.metadata else "")
