"""The driver's API client against a real HTTPS server on loopback that, like the API
server, asks for client certificates: credentials from kubeconfigs, errors, watches."""

from __future__ import annotations

import base64
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from dra_reference.errors import ConfigurationError
from dra_reference.kube import ApiError, KubeAPI, api_client, node_uid, path

from fakehw.cluster.local import pki

pytestmark = pytest.mark.socket
EVENTS = [{"type": "ADDED", "object": {"metadata": {"name": "a"}}},
          {"type": "DELETED", "object": {"metadata": {"name": "a"}}},
          {"type": "ERROR", "object": {"kind": "Status", "code": 410,
                                       "message": "too old resource version: 1 (7)"}}]


class Handler(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str, dict[str, str], Any]]] = []

    def do_GET(self) -> None:
        self._record(None)
        if self.path.startswith("/apis/resource.k8s.io/v1/resourceslices?"):
            self._watch()
        elif self.path == "/api/v1/nodes/node-a":
            self._send(200, {"kind": "Node", "metadata": {"name": "node-a", "uid": "u-1"}})
        else:
            self._send(404, {"kind": "Status", "code": 404, "reason": "NotFound",
                             "message": f"{self.path} not found"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self._record(body)
        self._send(201, {**body, "metadata": {**body["metadata"], "resourceVersion": "9"}})

    def _record(self, body: Any) -> None:
        self.seen.append((self.command, self.path, dict(self.headers), body))

    def _send(self, status: int, document: dict[str, Any]) -> None:
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _watch(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in EVENTS:
            line = json.dumps(event).encode() + b"\n"
            self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args: Any) -> None:
        pass


class Server:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ca = pki.new_authority()
        key, cert = pki.issue(self.ca, pki.CertRequest("server", "kube-apiserver",
                                                       ip_addresses=("127.0.0.1",),
                                                       server=True, client=False))
        pki.write_pair(folder, "server", key, cert)
        key, cert = pki.issue(self.ca, pki.CertRequest("driver", "dra-driver"))
        pki.write_pair(folder, "driver", key, cert)
        (folder / "ca.crt").write_bytes(pki.cert_pem(self.ca.certificate))
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(folder / "server.crt", folder / "server.key")
        tls.load_verify_locations(folder / "ca.crt")
        tls.verify_mode = ssl.CERT_OPTIONAL  # token users come without a certificate
        Handler.seen = []
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.socket = tls.wrap_socket(self.http.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.http.server_address[1]}"

    def kubeconfig(self, cluster: dict[str, Any] | None = None, **user: Any) -> Path:
        """A kubeconfig of this server; files named relative to the kubeconfig's folder."""
        cluster = cluster or {"certificate-authority": "ca.crt"}
        path = self.folder / "kubeconfig"
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "c",
            "clusters": [{"name": "k", "cluster": {"server": self.url, **cluster}}],
            "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
            "users": [{"name": "u", "user": user}]}))
        return path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path)
    thread = threading.Thread(target=running.http.serve_forever, daemon=True)
    thread.start()
    yield running
    running.http.shutdown()
    running.http.server_close()


def test_client_certificate_from_files_and_impersonation(server: Server) -> None:
    api = api_client(server.kubeconfig(**{
        "client-certificate": "driver.crt", "client-key": "driver.key",
        "as": "system:serviceaccount:dra:plugin", "as-groups": ["system:serviceaccounts"]}))
    assert node_uid(api, "node-a") == "u-1"
    [(verb, where, headers, _)] = Handler.seen
    assert (verb, where) == ("GET", "/api/v1/nodes/node-a")
    assert headers["Impersonate-User"] == "system:serviceaccount:dra:plugin"
    assert headers["Impersonate-Group"] == "system:serviceaccounts"
    assert "Authorization" not in headers


def test_token_file_and_embedded_ca(server: Server) -> None:
    ca = pki.cert_pem(server.ca.certificate)
    (server.folder / "token").write_text("s3cret\n")
    cluster = {"certificate-authority-data": base64.b64encode(ca).decode()}
    api = api_client(server.kubeconfig(cluster, tokenFile="token"))
    created = api.create(path("resource.k8s.io/v1", "resourceslices"),
                         {"metadata": {"name": "s"}, "spec": {"driver": "d"}})
    assert created["metadata"]["resourceVersion"] == "9"
    [(verb, _, headers, body)] = Handler.seen
    assert (verb, headers["Authorization"], body["spec"]) == ("POST", "Bearer s3cret",
                                                               {"driver": "d"})


def test_errors_carry_the_servers_message(server: Server) -> None:
    api = api_client(server.kubeconfig(token="t"))
    with pytest.raises(ApiError, match="/api/v1/nodes/gone not found") as failure:
        api.get(path("v1", "nodes", "gone"))
    assert failure.value.status == 404
    with pytest.raises(ConfigurationError, match="node 'gone' does not exist"):
        node_uid(api, "gone")


def test_a_watch_yields_events_until_an_error_event(server: Server) -> None:
    api = api_client(server.kubeconfig(token="t"))
    events = api.watch(path("resource.k8s.io/v1", "resourceslices"),
                       query={"resourceVersion": "1"}, timeout=5)
    assert [next(events)["type"], next(events)["type"]] == ["ADDED", "DELETED"]
    with pytest.raises(ApiError, match="too old resource version") as failure:
        next(events)
    assert failure.value.status == 410
    assert "watch=true" in Handler.seen[0][1]


def test_a_server_certificate_from_another_ca_is_refused(server: Server,
                                                         tmp_path: Path) -> None:
    other = pki.new_authority("another-ca")
    (tmp_path / "other.crt").write_bytes(pki.cert_pem(other.certificate))
    api: KubeAPI = api_client(server.kubeconfig({"certificate-authority": "other.crt"},
                                                token="t"))
    with pytest.raises(ConfigurationError, match="cannot reach the API server"):
        node_uid(api, "node-a")
    assert Handler.seen == []


def test_credential_plugins_are_refused_at_start(server: Server) -> None:
    config = server.kubeconfig(exec={"command": "aws", "apiVersion": "v1"})
    with pytest.raises(ConfigurationError, match="exec credential plugin is not supported"):
        api_client(config)
