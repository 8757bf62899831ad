"""Container images made without a registry: OCI layouts written by Python, imported with ctr."""

from fakehw.cluster.images.builtin import PAUSE_IMAGE, WORKLOAD_IMAGE, pause_image, workload_image
from fakehw.cluster.images.oci import ImageSpec, write_oci_archive

__all__ = [
    "PAUSE_IMAGE",
    "WORKLOAD_IMAGE",
    "ImageSpec",
    "pause_image",
    "workload_image",
    "write_oci_archive",
]
