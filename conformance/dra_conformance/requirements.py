"""The requirement catalogue: what a DRA driver must do, each with a stable ID.

IDs never change meaning once published, so reports from different suite versions can be
compared; a retired requirement keeps its ID out of use. Each one cites the behaviour of the
DRA contract it comes from ("contract N" is item N of "Behaviours upstream tests expect",
KEP-5970 names seven of them). A requirement tied to a feature applies only to drivers that
claim the feature; tests prove requirements by carrying ``@pytest.mark.requirement(ID)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dra_conformance.features import Feature


class Level(StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"


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
    source: str  # where in the contract it comes from
    feature: Feature | None = None


M, S = Level.MUST, Level.SHOULD
SOCK, CLU = Tier.SOCKET, Tier.CLUSTER
F = Feature

CATALOGUE: tuple[Requirement, ...] = (
    # Registration (contract 1)
    Requirement("DRA-REG-001", M, SOCK, "GetInfo answers type DRAPlugin, the driver's name and "
                "the absolute path of a DRA socket that exists", "contract 1, kubelet API"),
    Requirement("DRA-REG-002", M, SOCK, "supported_versions lists a DRA service the kubelet "
                "knows (v1.DRAPlugin or v1beta1.DRAPlugin), v1 before v1beta1",
                "kubelet API"),
    Requirement("DRA-REG-003", M, SOCK, "NotifyRegistrationStatus is accepted for success and a "
                "rejection leaves the driver serving", "kubelet API"),
    Requirement("DRA-REG-004", M, SOCK, "after its own restart the driver registers again and "
                "serves the DRA socket it advertises", "contract 1"),
    Requirement("DRA-REG-005", M, CLU, "after a kubelet restart the driver is registered again "
                "and its pods keep running", "contract 1"),
    Requirement("DRA-REG-006", S, SOCK, "a stopped driver removes its sockets", "kubelet API"),
    # gRPC service versions and connections (contract 7)
    Requirement("DRA-GRPC-001", M, SOCK, "the v1 DRAPlugin service prepares and unprepares",
                "contract 7"),
    Requirement("DRA-GRPC-002", M, SOCK, "the v1beta1 DRAPlugin service answers like v1",
                "contract 7", F.V1BETA1),
    Requirement("DRA-GRPC-003", M, SOCK, "one connection serves many calls, also concurrent "
                "ones", "contract 7"),
    # ResourceSlices (contract 2)
    Requirement("DRA-SLICE-001", M, CLU, "each node running the driver has node-local "
                "ResourceSlices of the driver", "contract 2, KEP-5970"),
    Requirement("DRA-SLICE-002", M, CLU, "each pool is complete and consistent: one "
                "generation, resourceSliceCount slices, unique device names", "contract 2"),
    Requirement("DRA-SLICE-003", M, CLU, "node-local slices are owned by their Node",
                "contract 2"),
    Requirement("DRA-SLICE-004", M, CLU, "slices keep the same devices across a quick driver "
                "restart", "contract 2"),
    Requirement("DRA-SLICE-005", M, CLU, "the driver writes only its own node's slices",
                "contract 2"),
    Requirement("DRA-SLICE-006", M, CLU, "published devices match the hardware (checked "
                "against fakehw's inventory when the driver runs on fakehw)", "contract 2"),
    Requirement("DRA-SLICE-007", S, CLU, "node-local pools are named after their node",
                "contract 2"),
    # Allocation and scheduling (contracts 9, 12; KEP-5970)
    Requirement("DRA-ALLOC-001", M, CLU, "a pod claiming a device of each profile DeviceClass "
                "is scheduled and runs", "KEP-5970"),
    Requirement("DRA-ALLOC-002", M, CLU, "claims the allocator model can satisfy are allocated "
                "with devices meeting every selector and constraint", "contract 9"),
    Requirement("DRA-ALLOC-003", M, CLU, "claims the allocator model cannot satisfy leave the "
                "pod pending as unschedulable", "contract 9"),
    Requirement("DRA-ALLOC-004", M, CLU, "the container sees the allocated devices as the "
                "profile says (env, device paths or a check command)", "KEP-5970"),
    Requirement("DRA-ALLOC-005", M, CLU, "devices freed by a finished pod are allocated again",
                "KEP-5970"),
    Requirement("DRA-ALLOC-006", M, CLU, "a CEL runtime error keeps the pod pending",
                "contract 12"),
    Requirement("DRA-ALLOC-007", M, CLU, "no node gets more pods than it has devices",
                "contract 12"),
    Requirement("DRA-ALLOC-008", M, CLU, "matchAttribute and distinctAttribute constraints "
                "hold over the driver's attributes", "contract 9"),
    # Prepare (contracts 3, 4)
    Requirement("DRA-PREP-001", M, SOCK, "prepare answers every claim by UID with the "
                "allocated request, pool and device and well-formed CDI device IDs",
                "contract 4, kubelet API"),
    Requirement("DRA-PREP-002", M, SOCK, "prepare is idempotent: a second prepare returns the "
                "same devices and CDI IDs", "contract 3"),
    Requirement("DRA-PREP-003", M, SOCK, "a claim that is missing, unallocated or malformed "
                "gets a per-claim error, not a failed call", "kubelet API"),
    Requirement("DRA-PREP-004", M, SOCK, "a replaced claim (same name, new UID) is not served "
                "with the old claim's preparation", "contract 5"),
    Requirement("DRA-PREP-005", M, SOCK, "several claims in one call are answered one by one: "
                "a bad claim does not fail the others", "kubelet API"),
    Requirement("DRA-PREP-006", M, SOCK, "only allocation results for this driver are "
                "prepared", "kubelet API"),
    Requirement("DRA-PREP-007", M, SOCK, "a subrequest result is answered under its request's "
                "name (the /subrequest suffix stripped)", "kubelet API"),
    Requirement("DRA-PREP-008", M, CLU, "a failed or timed-out prepare is retried and the pod "
                "stays pending meanwhile", "contract 3"),
    Requirement("DRA-PREP-009", M, SOCK, "a failed prepare is rolled back: no CDI spec of the "
                "claim is left", "contract 3"),
    Requirement("DRA-PREP-010", M, CLU, "prepare runs even when no container references the "
                "claim", "contract 4"),
    Requirement("DRA-PREP-011", M, SOCK, "every CDI device ID returned resolves in a CDI spec "
                "file of the node", "CDI"),
    # Configuration (contract 4)
    Requirement("DRA-CONF-001", M, SOCK, "opaque configuration of the claim reaches the "
                "prepared devices", "contract 4"),
    Requirement("DRA-CONF-002", M, SOCK, "claim configuration overrides class configuration",
                "contract 4"),
    # Unprepare (contract 5)
    Requirement("DRA-UNPREP-001", M, SOCK, "unprepare of a prepared claim succeeds and is "
                "idempotent", "contract 5"),
    Requirement("DRA-UNPREP-002", M, SOCK, "unprepare of a claim never prepared succeeds",
                "contract 5"),
    Requirement("DRA-UNPREP-003", M, SOCK, "after unprepare no CDI device of the claim "
                "resolves any more", "contract 5, CDI"),
    Requirement("DRA-UNPREP-004", M, SOCK, "unprepare succeeds after the claim was deleted "
                "from the API server (force delete)", "contract 5"),
    Requirement("DRA-UNPREP-005", M, CLU, "deleting a pod unprepares its claims without "
                "FailedUnprepareDynamicResources events", "contract 5, KEP-5970"),
    # Sharing and templates (contract 6)
    Requirement("DRA-SHARE-001", M, CLU, "a claim is shared by the containers of one pod",
                "contract 6"),
    Requirement("DRA-SHARE-002", M, CLU, "a claim is shared by several pods", "contract 6"),
    Requirement("DRA-SHARE-003", M, CLU, "init containers get their claim's devices",
                "contract 6"),
    Requirement("DRA-TMPL-001", M, CLU, "a claim generated from a template is deleted and its "
                "reservation removed when the pod ends", "contract 6"),
    # Several drivers, updates (contracts 7, 8)
    Requirement("DRA-MULTI-001", S, CLU, "the driver works beside another DRA driver on one "
                "node and in one pod", "contract 7"),
    Requirement("DRA-UPD-001", S, CLU, "a rolling update of the plugin keeps claims served",
                "contract 8"),
    # Lifecycle and restarts (contracts 1, 3, 5)
    Requirement("DRA-LIFE-001", M, SOCK, "any sequence of prepare, unprepare and driver "
                "restart keeps the contract (state machine)", "contracts 3, 5"),
    Requirement("DRA-RST-001", M, SOCK, "after a driver restart, prepared claims are answered "
                "as before and can be unprepared", "contract 3"),
    # Optional features (contracts 9-11)
    Requirement("DRA-FEAT-ADMIN-001", M, CLU, "admin access claims are allocated in labelled "
                "namespaces only", "contract 9", F.ADMIN_ACCESS),
    Requirement("DRA-FEAT-PRIO-001", M, CLU, "firstAvailable takes the first satisfiable "
                "subrequest", "contract 9", F.PRIORITIZED_LIST),
    Requirement("DRA-FEAT-PART-001", M, CLU, "shared counters are consumed by allocations and "
                "freed afterwards", "contract 10", F.PARTITIONABLE),
    Requirement("DRA-FEAT-CAP-001", M, SOCK, "a shareID allocated for consumable capacity "
                "comes back in the v1 prepare answer", "contract 10", F.CONSUMABLE_CAPACITY),
    Requirement("DRA-FEAT-TAINT-001", M, CLU, "tainted devices are allocated only to claims "
                "that tolerate the taint", "contract 10", F.DEVICE_TAINTS),
    Requirement("DRA-FEAT-STATUS-001", M, CLU, "the driver writes status.devices of its "
                "allocated claims", "contract 11", F.DEVICE_STATUS),
    Requirement("DRA-FEAT-HEALTH-001", M, SOCK, "the health stream sends complete, valid "
                "snapshots of the driver's devices", "contract 11", F.HEALTH_REPORTING),
    Requirement("DRA-FEAT-HEALTH-002", M, CLU, "device health reaches the pod status",
                "contract 11", F.HEALTH_REPORTING),
    Requirement("DRA-FEAT-BIND-001", M, CLU, "binding conditions delay binding until met",
                "contract 11", F.BINDING_CONDITIONS),
    Requirement("DRA-FEAT-EXT-001", M, CLU, "an extended resource backed by a DeviceClass is "
                "allocated through the driver", "contract 10", F.EXTENDED_RESOURCES),
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
