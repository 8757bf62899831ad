"""Loading an image archive into every node of a running local cluster, as `kind load` does.

Each node has its own containerd, so the archive (OCI image layout or `docker save` output) is
imported into each one's `k8s.io` namespace, where the kubelet's CRI looks for images. A pod
then runs it with `imagePullPolicy: IfNotPresent` or `Never`, no registry involved.
"""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from fakehw.cluster.errors import ClusterConfigError, HostError
from fakehw.cluster.local.state import ClusterState


def archive_images(archive: Path) -> list[str]:
    """The image names in an OCI layout or `docker save` tar; an error names what to give
    instead when it holds no image."""
    if not archive.is_file():
        raise ClusterConfigError(f"image archive {archive} does not exist")
    try:
        with tarfile.open(archive) as tar:
            members = {m.name.removeprefix("./"): m for m in tar.getmembers()}
            for index in ("index.json", "manifest.json"):
                if index in members and (stream := tar.extractfile(members[index])):
                    return _names(index, json.load(stream))
    except tarfile.TarError:
        raise ClusterConfigError(f"image archive {archive} is not a tar file; give an OCI "
                                 "layout or `docker save` output") from None
    except ValueError as exc:
        raise ClusterConfigError(f"the index of image archive {archive} is not JSON ({exc})"
                                 ) from None
    raise ClusterConfigError(f"{archive} holds no image (no index.json or manifest.json); "
                             "give an OCI layout or `docker save` output")


def _names(index: str, document: Any) -> list[str]:
    if index == "manifest.json":  # docker save: [{"RepoTags": [...], ...}]
        return [tag for image in document for tag in image.get("RepoTags") or ()]
    names = [m.get("annotations", {}).get("io.containerd.image.name") or
             m.get("annotations", {}).get("org.opencontainers.image.ref.name", "")
             for m in document.get("manifests", ())]
    return [name for name in names if name]  # an unnamed image is imported by digest


def load_image(state: ClusterState, archive: Path) -> list[str]:
    """Import `archive` into every node's containerd; return the image names it held."""
    images = archive_images(archive)
    for node in state.nodes:
        record = state.process(f"containerd-{node['index']}")
        if record is None:
            raise HostError(f"no containerd is recorded for node {node['name']} in {state.path}")
        ctr = Path(record.argv[0]).with_name("ctr")  # built beside the node's containerd
        command = [str(ctr), f"--address={node['containerd_socket']}", "--namespace=k8s.io",
                   "images", "import", str(archive)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise HostError(f"importing {archive} into {node['name']}'s containerd failed: "
                            f"{(done.stderr or done.stdout).strip()}")
    return images
