"""The requirement catalogue: what a DRA driver must do, each with a stable ID.

IDs never change meaning once published, so reports from different suite versions can be
compared; a retired requirement keeps its ID out of use, and a change of level keeps it.
Each one has a source anyone can open at Kubernetes v1.37.2 (sources.py), and its level
follows that source (``Level``). A requirement tied to a feature applies only to drivers
that claim the feature; tests prove requirements by carrying
``@pytest.mark.requirement(ID)``. ``conformance/CATALOGUE.md`` is this file as a document.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dra_conformance.features import Feature
from dra_conformance.sources import SOURCES, Source


class Level(StrEnum):
    """How binding a requirement is, following its source: MUST where upstream requires the
    behaviour or the kubelet or scheduler breaks without it; SHOULD where upstream allows
    alternatives; PRACTICE for this project's own best practice. Only MUSTs decide the
    verdict."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    PRACTICE = "PRACTICE"


class Tier(StrEnum):
    """Where a requirement is checked: on the driver's sockets or with real pods."""

    SOCKET = "socket"
    CLUSTER = "cluster"


@dataclass(frozen=True)
class Requirement:
    id: str
    level: Level
    tier: Tier
    title: str
    feature: Feature | None = None
    hardware: bool = False  # checked against the hardware: not applicable to simulated devices

    @property
    def source(self) -> Source:
        """Where upstream asks for it (sources.SOURCES): every requirement has one."""
        return SOURCES[self.id]


M, S, P = Level.MUST, Level.SHOULD, Level.PRACTICE
SOCK, CLU = Tier.SOCKET, Tier.CLUSTER
F = Feature

CATALOGUE: tuple[Requirement, ...] = (
    # Registration
    Requirement("DRA-REG-001", M, SOCK, "GetInfo answers type DRAPlugin, the driver's name and "
                "the absolute path of a DRA socket that exists"),
    Requirement("DRA-REG-002", M, SOCK, "supported_versions lists a DRA service the kubelet "
                "knows (v1.DRAPlugin or v1beta1.DRAPlugin), v1 before v1beta1"),
    Requirement("DRA-REG-003", M, SOCK, "NotifyRegistrationStatus is accepted for success and a "
                "rejection leaves the driver serving"),
    Requirement("DRA-REG-004", M, SOCK, "after its own restart the driver registers again and "
                "serves the DRA socket it advertises"),
    Requirement("DRA-REG-005", M, CLU, "after a kubelet restart the driver is registered again "
                "and its pods keep running"),
    Requirement("DRA-REG-006", S, SOCK, "a stopped driver removes its sockets"),
    # gRPC service versions and connections
    Requirement("DRA-GRPC-001", M, SOCK, "the v1 DRAPlugin service prepares and unprepares"),
    Requirement("DRA-GRPC-002", M, SOCK, "the v1beta1 DRAPlugin service answers like v1",
                F.V1BETA1),
    Requirement("DRA-GRPC-003", M, SOCK, "one connection serves many calls, also concurrent ones"),
    # ResourceSlices
    Requirement("DRA-SLICE-001", M, CLU, "each node running the driver has node-local "
                "ResourceSlices of the driver"),
    Requirement("DRA-SLICE-002", M, CLU, "each pool is complete and consistent: one generation, "
                "resourceSliceCount slices, unique device names"),
    Requirement("DRA-SLICE-003", S, CLU, "node-local slices are owned by their Node"),
    Requirement("DRA-SLICE-004", M, CLU, "slices keep the same devices across a quick driver "
                "restart"),
    Requirement("DRA-SLICE-005", S, CLU, "the driver writes only its own node's slices"),
    Requirement("DRA-SLICE-006", M, CLU, "published devices match the hardware (checked against "
                "fakehw's inventory when the driver runs on fakehw)", hardware=True),
    Requirement("DRA-SLICE-007", P, CLU, "node-local pools are named after their node"),
    # Allocation and scheduling
    Requirement("DRA-ALLOC-001", M, CLU, "a pod claiming a device of each profile DeviceClass is "
                "scheduled and runs"),
    Requirement("DRA-ALLOC-002", M, CLU, "claims the allocator model can satisfy are allocated "
                "with devices meeting every selector and constraint"),
    Requirement("DRA-ALLOC-003", M, CLU, "claims the allocator model cannot satisfy leave the "
                "pod pending as unschedulable"),
    Requirement("DRA-ALLOC-004", M, CLU, "the container sees the allocated devices as the "
                "profile says (env, device paths or a check command)"),
    Requirement("DRA-ALLOC-005", M, CLU, "devices freed by a finished pod are allocated again"),
    Requirement("DRA-ALLOC-006", M, CLU, "a CEL runtime error keeps the pod pending"),
    Requirement("DRA-ALLOC-007", M, CLU, "no node gets more pods than it has devices"),
    Requirement("DRA-ALLOC-008", M, CLU, "matchAttribute and distinctAttribute constraints hold "
                "over the driver's attributes"),
    Requirement("DRA-ALLOC-009", M, CLU, "a network device claim's URL leads to the allocated "
                "device (on fakehw: the stream's marks name the allocated camera)",
                F.CLAIM_CREDENTIALS, hardware=True),
    # Prepare
    Requirement("DRA-PREP-001", M, SOCK, "prepare answers every claim by UID with the allocated "
                "request, pool and device and well-formed CDI device IDs"),
    Requirement("DRA-PREP-002", M, SOCK, "prepare is idempotent: a second prepare returns the "
                "same devices and CDI IDs"),
    Requirement("DRA-PREP-003", S, SOCK, "a claim that is missing, unallocated or malformed gets "
                "a per-claim error, not a failed call"),
    Requirement("DRA-PREP-004", M, SOCK, "a replaced claim (same name, new UID) is not served "
                "with the old claim's preparation"),
    Requirement("DRA-PREP-005", S, SOCK, "several claims in one call are answered one by one: a "
                "bad claim does not fail the others"),
    Requirement("DRA-PREP-006", M, SOCK, "only allocation results for this driver are prepared"),
    Requirement("DRA-PREP-007", M, SOCK, "a subrequest result is answered under its request's "
                "name (the /subrequest suffix stripped)"),
    Requirement("DRA-PREP-008", M, CLU, "a failed or timed-out prepare is retried and the pod "
                "stays pending meanwhile (a fault injected into the hardware)", hardware=True),
    Requirement("DRA-PREP-009", P, SOCK, "a failed prepare is rolled back: no CDI spec of the "
                "claim is left"),
    Requirement("DRA-PREP-010", M, CLU, "prepare runs even when no container references the "
                "claim"),
    Requirement("DRA-PREP-011", M, SOCK, "every CDI device ID returned resolves in a CDI spec "
                "file of the node"),
    Requirement("DRA-PREP-012", M, SOCK, "a claim that is missing, unallocated or malformed is "
                "never prepared: its entry or the whole call is an error"),
    Requirement("DRA-PREP-014", M, CLU, "hardware set up for a claim has the capacity it "
                "consumed: a CXL region of the allocation's consumedCapacity (on fakehw)",
                F.CONSUMABLE_CAPACITY, hardware=True),
    Requirement("DRA-PREP-013", M, SOCK, "a device is set up when prepare answers: an FPGA is "
                "operating with the image its claim asked for (checked against fakehw)",
                F.FPGA_PROGRAMMING),
    # Configuration
    Requirement("DRA-CONF-001", M, SOCK, "opaque configuration of the claim reaches the prepared "
                "devices"),
    Requirement("DRA-CONF-002", P, SOCK, "claim configuration overrides class configuration"),
    Requirement("DRA-CONF-003", S, SOCK, "opaque configuration with a field the driver does "
                "not know is refused, not silently ignored"),
    # Unprepare
    Requirement("DRA-UNPREP-001", M, SOCK, "unprepare of a prepared claim succeeds and is "
                "idempotent"),
    Requirement("DRA-UNPREP-002", M, SOCK, "unprepare of a claim never prepared succeeds"),
    Requirement("DRA-UNPREP-003", M, SOCK, "after unprepare no CDI device of the claim resolves "
                "any more"),
    Requirement("DRA-UNPREP-004", M, SOCK, "unprepare succeeds after the claim was deleted from "
                "the API server (force delete)"),
    Requirement("DRA-UNPREP-005", M, CLU, "deleting a pod unprepares its claims without "
                "FailedUnprepareDynamicResources events"),
    Requirement("DRA-UNPREP-007", M, CLU, "after unprepare the hardware is as before prepare: "
                "nothing made for the claim is left (a CXL region carved for it, on fakehw)",
                hardware=True),
    Requirement("DRA-UNPREP-006", M, CLU, "a credential prepare gave a claim for a network "
                "device is refused by the device once the claim is unprepared",
                F.CLAIM_CREDENTIALS),
    # Sharing and templates
    Requirement("DRA-SHARE-001", M, CLU, "a claim is shared by the containers of one pod"),
    Requirement("DRA-SHARE-002", M, CLU, "a claim is shared by several pods"),
    Requirement("DRA-SHARE-003", M, CLU, "init containers get their claim's devices"),
    Requirement("DRA-TMPL-001", M, CLU, "a claim generated from a template is deleted and its "
                "reservation removed when the pod ends"),
    # Several drivers, updates
    Requirement("DRA-MULTI-001", M, CLU, "the driver works beside another DRA driver on one node "
                "and in one pod"),
    Requirement("DRA-UPD-001", S, CLU, "a rolling update of the plugin keeps claims served"),
    # Lifecycle and restarts
    Requirement("DRA-LIFE-001", M, SOCK, "any sequence of prepare, unprepare and driver restart "
                "keeps the contract (state machine)"),
    Requirement("DRA-RST-001", M, SOCK, "after a driver restart, prepared claims are answered as "
                "before and can be unprepared"),
    # Optional features
    Requirement("DRA-FEAT-ADMIN-001", M, CLU, "admin access claims are allocated in labelled "
                "namespaces only", F.ADMIN_ACCESS),
    Requirement("DRA-FEAT-PRIO-001", M, CLU, "firstAvailable takes the first satisfiable "
                "subrequest", F.PRIORITIZED_LIST),
    Requirement("DRA-FEAT-PART-001", M, CLU, "shared counters are consumed by allocations and "
                "freed afterwards", F.PARTITIONABLE),
    Requirement("DRA-FEAT-CAP-001", S, SOCK, "a shareID allocated for consumable capacity comes "
                "back in the v1 prepare answer", F.CONSUMABLE_CAPACITY),
    Requirement("DRA-FEAT-TAINT-001", M, CLU, "tainted devices are allocated only to claims that "
                "tolerate the taint", F.DEVICE_TAINTS),
    Requirement("DRA-FEAT-STATUS-001", M, CLU, "the driver writes status.devices of its "
                "allocated claims", F.DEVICE_STATUS),
    Requirement("DRA-FEAT-HEALTH-001", S, SOCK, "the health stream sends complete, valid "
                "snapshots of the driver's devices", F.HEALTH_REPORTING),
    Requirement("DRA-FEAT-HEALTH-002", M, CLU, "device health reaches the pod status",
                F.HEALTH_REPORTING),
    Requirement("DRA-FEAT-BIND-001", M, CLU, "binding conditions delay binding until met",
                F.BINDING_CONDITIONS),
    Requirement("DRA-FEAT-EXT-001", M, CLU, "an extended resource backed by a DeviceClass is "
                "allocated through the driver", F.EXTENDED_RESOURCES),
)

BY_ID: dict[str, Requirement] = {requirement.id: requirement for requirement in CATALOGUE}


def get(requirement_id: str) -> Requirement:
    """The requirement with this ID; KeyError names the closest ones."""
    try:
        return BY_ID[requirement_id]
    except KeyError:
        prefix = requirement_id.rsplit("-", 1)[0]
        near = [known for known in BY_ID if known.startswith(prefix)]
        raise KeyError(f"no requirement {requirement_id!r} in the catalogue"
                       + (f"; did you mean one of {near}?" if near else "")) from None
