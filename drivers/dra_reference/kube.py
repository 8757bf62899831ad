"""Connecting to the API server: a kubeconfig when given, the pod's service account otherwise.

Decided once at start, with an error that says which source was tried: a driver that runs
without being able to publish its slices is invisible to the scheduler, so failing to start
is the better outcome.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client
from kubernetes import config as _config
from kubernetes.client.exceptions import ApiException

from dra_reference.errors import ConfigurationError

config: Any = _config  # the loaders are untyped


def api_client(kubeconfig: Path | None) -> Any:
    """An ``ApiClient`` for ``kubeconfig``, the in-cluster service account, or ~/.kube/config."""
    try:
        if kubeconfig is not None:
            return config.new_client_from_config(config_file=str(kubeconfig),
                                                 persist_config=False)
        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)
            return client.ApiClient(configuration)
        return config.new_client_from_config(persist_config=False)
    except (config.ConfigException, OSError, ValueError) as exc:
        source = kubeconfig or ("the in-cluster service account"
                                if os.environ.get("KUBERNETES_SERVICE_HOST")
                                else "~/.kube/config")
        raise ConfigurationError(f"cannot load Kubernetes credentials from {source}: {exc}; "
                                 "pass --kubeconfig or run in a pod") from exc


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
