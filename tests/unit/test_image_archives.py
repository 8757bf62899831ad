"""What `fakehw cluster load-image` accepts: an OCI layout or `docker save` tar, and nothing
else, with the fix named (fakehw/cluster/local/loads.py). Loading itself runs in
`make conformance`, which loads the driver's image into every node."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from fakehw.cluster.errors import ClusterConfigError
from fakehw.cluster.images.oci import Entry, ImageSpec, write_oci_archive
from fakehw.cluster.local.loads import archive_images

pytestmark = pytest.mark.unit


def tar_with(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_an_oci_layout_names_its_image(tmp_path: Path) -> None:
    archive = write_oci_archive(ImageSpec("fakehw.local/tiny:1", [Entry("hello", data=b"hi")]),
                                tmp_path / "tiny.tar")
    assert archive_images(archive) == ["fakehw.local/tiny:1"]


def test_docker_save_output_names_its_tags(tmp_path: Path) -> None:
    manifest = [{"Config": "c.json", "RepoTags": ["dra-reference:dev"], "Layers": []}]
    archive = tar_with(tmp_path / "saved.tar", {"manifest.json": json.dumps(manifest).encode()})
    assert archive_images(archive) == ["dra-reference:dev"]


@pytest.mark.parametrize(("make", "words"), [
    (lambda d: d / "missing.tar", "does not exist"),
    (lambda d: (d / "text.tar").write_text("not a tar") and d / "text.tar", "is not a tar file"),
    (lambda d: tar_with(d / "empty.tar", {"README": b"x"}), "holds no image"),
    (lambda d: tar_with(d / "bad.tar", {"index.json": b"{"}), "is not JSON"),
])
def test_anything_else_is_refused_with_the_fix(make: object, words: str,
                                               tmp_path: Path) -> None:
    archive = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(ClusterConfigError, match=words) as refused:
        archive_images(archive)
    assert str(archive) in str(refused.value)
