"""GPUs: the DRM nodes with their real numbers, and the claim's settings as environment.

A GPU needs nothing done to it to be handed over; what the container needs is its ``card``
and ``renderD`` nodes (created by the runtime from type and numbers, so the runtime never
stats a host path) and variables telling the workload which devices and which sharing mode
it got. ``FAKEHW_GPU_DEVICES`` lists every GPU of the request, identically in each device's
edits, so the value does not depend on the order in which a runtime merges them.
"""

from __future__ import annotations

from collections.abc import Mapping

from dra_reference.cdi import ContainerEdits
from dra_reference.params.types import GpuConfig
from dra_reference.plugin.model import JSON
from dra_reference.preparers.base import DeviceJob, Note, cdi_node

SHARING = {"Exclusive": "exclusive", "TimeSlicing": "time-sliced"}


class GpuPreparer:
    kind = "gpu"
    changes_devices = False

    def prepare(self, job: DeviceJob, note: Note) -> ContainerEdits:
        config: GpuConfig = job.config
        env = [f"FAKEHW_GPU_DEVICES={','.join(job.peers)}",
               f"FAKEHW_GPU_SHARING={SHARING[config.strategy]}"]
        if config.strategy == "TimeSlicing":
            env.append(f"FAKEHW_GPU_TIMESLICE={config.interval.lower()}")
        if config.features:
            env.append(f"FAKEHW_GPU_FEATURES={','.join(config.features)}")
        if job.allocated.admin_access:
            env.append("FAKEHW_GPU_ADMIN_ACCESS=true")
        return ContainerEdits(env=tuple(env),
                              device_nodes=tuple(cdi_node(node) for node in job.device.nodes))

    def undo(self, notes: Mapping[str, JSON]) -> None:
        """Nothing on the GPU was changed."""
