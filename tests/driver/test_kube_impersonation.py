"""A kubeconfig user's impersonation fields become the Impersonate-* headers of every call."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from dra_reference.errors import ConfigurationError
from dra_reference.kube import api_client

pytestmark = pytest.mark.unit


def kubeconfig(tmp_path: Path, **user: object) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:1"}}],
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}},
                     {"name": "other", "context": {"cluster": "k", "user": "admin"}}],
        "users": [{"name": "u", "user": {"token": "t", **user}},
                  {"name": "admin", "user": {"token": "t", "as": "nobody"}}]}))
    return path


def test_the_current_users_fields_become_headers(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path, **{
        "as": "system:serviceaccount:dra-reference:kubelet-plugin",
        "as-groups": ["system:serviceaccounts"],
        "as-user-extra": {"authentication.kubernetes.io/node-name": ["node-a"]}})
    expected = {
        "Impersonate-User": "system:serviceaccount:dra-reference:kubelet-plugin",
        "Impersonate-Group": "system:serviceaccounts",
        "Impersonate-Extra-authentication.kubernetes.io%2Fnode-name": "node-a"}
    api = api_client(path)
    assert {k: api.headers[k] for k in expected} == expected


def test_no_impersonation_means_no_headers(tmp_path: Path) -> None:
    assert not [k for k in api_client(kubeconfig(tmp_path)).headers if "Impersonate" in k]


@pytest.mark.parametrize(("user", "problem"), [
    ({"as-groups": ["g"]}, "as-groups without as"),
    ({"as": "u", "as-groups": ["a", "b"]}, "at most one as-groups entry"),
    ({"as": "u", "as-user-extra": {"k": ["1", "2"]}}, "one value per as-user-extra key"),
])
def test_what_cannot_be_sent_is_refused_at_start(tmp_path: Path, user: dict[str, object],
                                                 problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        api_client(kubeconfig(tmp_path, **user))
