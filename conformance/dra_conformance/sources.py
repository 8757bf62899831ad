"""Where each requirement comes from: a place anyone can open at Kubernetes v1.37.2.

A source names the module and file (as the Go module proxy serves them, ``module@version/
path``), the anchor inside it (a proto message or field, a function, an e2e test's ``It``
text) and, where short enough, the words that require the behaviour. The level of a
requirement follows its source (see ``requirements.Level``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

KUBERNETES = "k8s.io/kubernetes@v1.37.2"
KUBELET = "k8s.io/kubelet@v0.37.2"
DRA_LIB = "k8s.io/dynamic-resource-allocation@v0.37.2"
API = "k8s.io/api@v0.37.2"
CDI_LIB = "tags.cncf.io/container-device-interface@v1.1.1"
SCHEDULER_PLUGIN = f"{KUBERNETES}/pkg/scheduler/framework/plugins/dynamicresources"


class SourceKind(StrEnum):
    PROTO = "kubelet API"
    E2E = "upstream e2e test"
    CODE = "upstream code"
    API = "API type"
    CDI = "CDI specification"
    PRACTICE = "project practice"


@dataclass(frozen=True)
class Source:
    kind: SourceKind
    where: str  # module@version/path, or for PRACTICE what the practice protects
    anchor: str  # proto message or field, function, e2e It text
    quote: str = ""  # the upstream words, verbatim
    note: str = ""  # why the requirement has its level, from this source

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.where} ({self.anchor})"


SOURCES: dict[str, Source] = {
    "DRA-REG-001": Source(
        SourceKind.CODE, f"{KUBERNETES}/pkg/kubelet/cm/dra/plugin/dra_plugin_manager.go",
        "DRAPluginManager.RegisterPlugin",
        quote="Plugins of a DRA driver are required to register under the name of",
        note="The plugin manager dispatches on PluginInfo.type (operation_generator.go "
             "GenerateRegisterPluginFunc: 'no handler registered for plugin type'; constant "
             "DRAPlugin in pluginregistration/v1/constants.go) and the DRA handler keys plugins "
             "by driver name. The endpoint is 'Optional' in the proto (empty = registration "
             "socket), so 'absolute path of an existing DRA socket' is stricter than upstream."),
    "DRA-REG-002": Source(
        SourceKind.PROTO, f"{KUBELET}/pkg/apis/pluginregistration/v1/api.proto",
        "PluginInfo.supported_versions",
        quote="if none of the listed versions is supported.",
        note="The kubelet rejects a plugin listing no DRA service it knows "
             "(validateSupportedServices: 'none of services supported by the plugin'). It takes "
             "the first listed service it knows, so 'v1 before v1beta1' only decides whether v1 "
             "(with share_id) is used: that ordering sub-check is PRACTICE."),
    "DRA-REG-003": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e_node/dra_test.go",
        "must recover and register after NotifyRegistrationStatus failure",
        quote="Expect plugin not to be registered due to NotifyRegistrationStatus failure",
        note="If NotifyRegistrationStatus(registered=true) fails the kubelet deregisters the "
             "plugin (GenerateRegisterPluginFunc calls DeRegisterPlugin); failed registrations "
             "are retried from scratch (pluginwatcher README), so the driver must keep serving "
             "after a rejection. Answering a rejection with an error is allowed (upstream helper "
             "does)."),
    "DRA-REG-004": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e_node/dra_test.go",
        "must register after plugin restart",
        quote="ginkgo.It(\"must register after plugin restart\"",
        note="Upstream node e2e requires re-registration after the plugin restarts."),
    "DRA-REG-005": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e_node/dra_test.go",
        "must register after Kubelet restart",
        quote="ginkgo.It(\"must register after Kubelet restart\"",
        note="Upstream node e2e requires re-registration after a kubelet restart (also 'must "
             "process pod created when kubelet is not running')."),
    "DRA-REG-006": Source(
        SourceKind.CODE, f"{KUBERNETES}/pkg/kubelet/pluginmanager/pluginwatcher/README.md",
        "gRPC Service Overview (and Seamless Upgrade)",
        quote="A plugin should clean up its own socket upon exiting or when a new instance",
        note="Upstream says 'should' ('Each instance should catch termination signals and clean "
             "up after itself'); a leftover socket only delays deregistration. It becomes a must "
             "with per-instance sockets: helper RollingUpdate doc says 'it must catch SIGINT/TERM "
             "and stop the helper'."),
    "DRA-GRPC-001": Source(
        SourceKind.CODE, f"{KUBELET}/pkg/apis/dra/v1beta1/doc.go",
        "package v1beta1 doc comment",
        quote="Package v1beta1 contains a legacy implementation of the DRA gRPC",
        note="The kubelet takes the first DRA service a plugin lists that it knows, and v1 is the "
             "current one: v1beta1 is marked legacy. A driver without v1 serves no share_id, and "
             "the suite's socket tier speaks v1, so such a driver cannot be judged."),
    "DRA-GRPC-002": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "ginkgo.It(\"work\") in multipleDriversContext(\"using only drapbv1beta1\", true, false)",
        quote="multipleDriversContext(\"using only drapbv1beta1\", true, false)",
        note="Kubelets before 1.34 speak only v1beta1 and the kubelet uses the first listed "
             "service it knows, so an advertised v1beta1.DRAPlugin must really work (README: 'A "
             "plugin should make sure it has service ready for any supported service API version "
             "listed in the PluginInfo'). Applies only to drivers advertising v1beta1."),
    "DRA-GRPC-003": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e_node/dra_test.go",
        "must use one gRPC connection for all service calls",
        quote="gomega.Expect(listener.acceptCount()).To(gomega.Equal(1))",
        note="The kubelet keeps one long-lived connection per plugin (GetPlugin: 'Connections are "
             "reused across different calls') and pod workers call it concurrently; the upstream "
             "helper serializes calls by default, which still serves them."),
    "DRA-SLICE-001": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "must manage ResourceSlices",
        quote="Now check for exactly the right set of objects for all nodes.",
        note="Upstream e2e expects node-local slices for every node running the plugin. Only for "
             "drivers with node-local devices: the API also allows nodeSelector/allNodes pools "
             "('Exactly one of NodeName, NodeSelector, AllNodes, and PerDeviceNodeSelection must "
             "be set')."),
    "DRA-SLICE-002": Source(
        SourceKind.CODE, f"{DRA_LIB}/structured/internal/stable/pools_stable.go",
        "GatherPools",
        quote="If a pool is incomplete, we don't allow allocation so we don't need",
        note="The scheduler's allocator skips incomplete pools (slice count != resourceSliceCount "
             "at the highest generation) and marks pools with duplicate device names invalid "
             "(validateDeviceNames), failing allocation; API: 'Each device in a given pool, "
             "regardless of how many ResourceSlices, must have a unique name.'"),
    "DRA-SLICE-003": Source(
        SourceKind.CODE, f"{DRA_LIB}/resourceslice/resourceslicecontroller.go",
        "Options.Owner",
        quote="therefore it is optional. A driver without a owner must take",
        note="The helper sets a Node owner and e2e 'must manage ResourceSlices' checks it for the "
             "upstream driver, but the controller docs make the owner optional with manual "
             "cleanup as the alternative; kubelet and scheduler never read it (the kubelet wipes "
             "by spec.nodeName)."),
    "DRA-SLICE-004": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "sequential update with pods replacing each other",
        quote="Old slice should have survived a downtime of %s.",
        note="Upstream asserts that slices survive a quick restart unchanged (also 'rolling "
             "update': 'The exact same slices should still exist.'); the kubelet wipes a vanished "
             "driver's slices only after the ~30 s wiping delay, so a driver must not "
             "delete/republish them."),
    "DRA-SLICE-005": Source(
        SourceKind.CODE, f"{DRA_LIB}/kubeletplugin/draplugin.go",
        "KubeClient option",
        quote="Ideally, a validating admission policy should be used to limit write",
        note="Per-node write limits are a deployment choice upstream recommends ('Ideally ... "
             "should'); the example deployment "
             "(test-driver/deploy/example/plugin-permissions.yaml) adds such a "
             "ValidatingAdmissionPolicy and e2e 'must apply per-node permission checks' tests it. "
             "NodeRestriction covers only node identities."),
    "DRA-SLICE-006": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "must manage ResourceSlices",
        quote="\"Devices\": gomega.Equal([]resourceapi.Device{{Name: \"device-00\"}}),",
        note="Upstream checks that exactly the driver's devices are published. The scheduler "
             "allocates only published devices: a phantom device is allocated and then fails "
             "prepare, a missing one is never usable. Matching real hardware can only be checked "
             "on fakehw."),
    "DRA-SLICE-007": Source(
        SourceKind.API, f"{API}/resource/v1/types.go",
        "ResourcePool.Name",
        quote="is often the node name, but this is not required.",
        note="The API explicitly says a node-local pool need not be named after the node; the "
             "helper takes whatever pool names the driver gives; only upstream's own test driver "
             "does it."),
    "DRA-ALLOC-001": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "supports simple pod referencing inline resource claim",
        quote="ginkgo.It(\"supports simple pod referencing inline resource claim\"",
        note="Basic upstream e2e: a pod with a claim for the driver's device is scheduled and "
             "runs."),
    "DRA-ALLOC-002": Source(
        SourceKind.API, f"{API}/resource/v1/types.go",
        "ExactDeviceRequest.Selectors",
        quote="request. All selectors must be satisfied for a device to be",
        note="Selection is done by the scheduler's allocator; the driver's part is publishing "
             "attributes/capacities with the names and types its DeviceClasses' CEL expects. No "
             "single upstream e2e covers arbitrary selectors."),
    "DRA-ALLOC-003": Source(
        SourceKind.CODE, f"{SCHEDULER_PLUGIN}/dynamicresources.go",
        "DynamicResources.Filter",
        quote="cannot allocate all claims",
        note="The scheduler plugin marks the node unschedulable when claims cannot be allocated "
             "(e2e 'runs pod after driver starts' waits for Unschedulable); a driver breaks this "
             "only by publishing wrong attributes."),
    "DRA-ALLOC-004": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "must map configs and devices to the right containers",
        quote="drautils.TestContainerEnv(f.TContext(ctx), pod, pod.Spec.Containers[0].Name, true, "
              "container0Env...)",
        note="Upstream checks inside the containers that each sees exactly its claims' devices "
             "(via CDI edits); KEP-5970's 'injected env var' check. How a device shows is "
             "driver-specific (the profile)."),
    "DRA-ALLOC-005": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "supports reusing resources",
        quote="ginkgo.It(\"supports reusing resources\"",
        note="Upstream e2e runs more pods than devices one after another (also 'must deallocate "
             "after use')."),
    "DRA-ALLOC-006": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "keeps pod pending because of CEL runtime errors",
        quote="pod must not get scheduled because of a CEL runtime error",
        note="Upstream e2e asserts the pod stays unscheduled; enforced by the scheduler, the "
             "driver only supplies the attributes."),
    "DRA-ALLOC-007": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "uses all resources",
        quote="ginkgo.It(\"uses all resources\"",
        note="Upstream e2e with one device per node expects one pod per node."),
    "DRA-ALLOC-008": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "chooses the correct subrequest subject to constraints",
        quote="f.It(\"chooses the correct subrequest subject to constraints\"",
        note="Upstream e2e uses matchAttribute constraints over driver attributes; API "
             "DeviceClaim.Constraints: 'These constraints must be satisfied by the set of "
             "devices'."),
    "DRA-ALLOC-009": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "must map configs and devices to the right containers",
        quote="drautils.TestContainerEnv(f.TContext(ctx), pod, pod.Spec.Containers[0].Name, true, "
              "container0Env...)",
        note="DRA-ALLOC-004 for devices reached over the network: the container must get the "
             "allocated device, and what it holds of a camera is an address, checked here by "
             "what the stream shows (the camera's own marks). A wrong camera is another "
             "claim's device."),
    "DRA-PREP-001": Source(
        SourceKind.PROTO, f"{KUBELET}/pkg/apis/dra/v1/api.proto",
        "NodePrepareResourcesResponse.claims",
        quote="or attempted, with claim_uid as key.",
        note="The kubelet fails the pod's prepare on an unknown UID ('returned result for unknown "
             "claim UID') or a missing entry ('skipped %d ResourceClaims'); pool_name and "
             "device_name are 'Required'. But cdi_device_ids: 'None is also valid.' and "
             "request_names may be empty, so the test's non-empty-CDI and exact-request checks go "
             "beyond upstream."),
    "DRA-PREP-002": Source(
        SourceKind.CODE, f"{DRA_LIB}/kubeletplugin/draplugin.go",
        "DRAPlugin.PrepareResourceClaims (interface doc)",
        quote="for preparation multiple times, for example if it gets restarted.",
        note="Upstream: 'This call must be idempotent because the kubelet might have to ask for "
             "preparation multiple times'."),
    "DRA-PREP-003": Source(
        SourceKind.PROTO, f"{KUBELET}/pkg/apis/dra/v1/api.proto",
        "service DRAPlugin, rpc NodePrepareResources",
        quote="response is ignored. Failures for individual claims",
        note="Refusing such a claim is a must; the per-claim form is not: failures 'can be' "
             "reported per claim, or the whole call can fail. Upstream's helper fails the whole "
             "call (getResourceClaims: 'retrieve claim', 'not allocated', 'got replaced'); the "
             "kubelet aborts the pod's prepare either way."),
    "DRA-PREP-004": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "blocks new pod after force-delete",
        quote="Only new claim should be prepared now because new pod is running.",
        note="Upstream requires that a re-created claim is never served with the old preparation "
             "(kubelet: 'old ResourceClaim with same name %s and different UID %s still exists'; "
             "helper: 'claim %s/%s got replaced', a whole-call error). The refusal is a must, its "
             "per-claim form is not."),
    "DRA-PREP-005": Source(
        SourceKind.PROTO, f"{KUBELET}/pkg/apis/dra/v1/api.proto",
        "service DRAPlugin, rpc NodePrepareResources",
        quote="can be reported inside NodePrepareResourcesResponse.",
        note="The proto allows failing the whole call ('If an error is returned, the response is "
             "ignored'); the upstream helper fails the whole batch for one "
             "missing/unallocated/replaced claim, and the kubelet aborts the pod on any claim "
             "error ('If there is any error, processing gets aborted')."),
    "DRA-PREP-006": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e_node/dra_test.go",
        "must prepare and unprepare resources (Two resource Kubelet Plugins)",
        quote="ginkgo.It(\"must prepare and unprepare resources\"",
        note="Upstream passes one claim whose results belong to two drivers to both plugins "
             "(createTestObjects); API DeviceRequestAllocationResult.Driver names 'the DRA driver "
             "whose kubelet plugin should be invoked'. Preparing another driver's result fails "
             "the pod."),
    "DRA-PREP-007": Source(
        SourceKind.CODE, f"{KUBERNETES}/pkg/kubelet/cm/dra/claiminfo.go",
        "ClaimInfo.cdiDevicesAsList",
        quote="if requestName == \"\" || len(device.RequestNames) == 0 || "
              "slices.Contains(device.RequestNames, requestName) {",
        note="The kubelet matches request_names verbatim against the container's request, which "
             "names the main request, so 'req/sub' gets the container no CDI devices (manager.go: "
             "'device.RequestNames are stored with subrequest suffixes stripped'). The Go helper "
             "strips it for drivers (stripSubrequestNames)."),
    "DRA-PREP-008": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e_node/dra_test.go",
        "must run pod if NodePrepareResources fails and then succeeds",
        quote="ginkgo.It(\"must run pod if NodePrepareResources fails and then succeeds\"",
        note="Upstream node e2e (also 'must keep pod in pending state if NodePrepareResources "
             "times out'): the pod waits in Pending and runs after a later successful prepare."),
    "DRA-PREP-009": Source(
        SourceKind.CODE, f"{KUBERNETES}/pkg/kubelet/cm/dra/manager.go",
        "Manager.prepareResources",
        quote="If something goes wrong and the newly referenced pod gets",
        note="Nothing upstream asks for rollback inside a failed prepare: the kubelet checkpoints "
             "the claim before calling and calls NodeUnprepareResources later even if prepare "
             "never succeeded, and the helper doc says 'UnprepareResourceClaims must undo "
             "whatever work PrepareResourceClaims did'."),
    "DRA-PREP-010": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "must call NodePrepareResources even if not used by any container",
        quote="claims should be prepared on host %s while pod is running",
        note="This is the kubelet's duty (the driver cannot tell); for the driver it adds nothing "
             "beyond PREP-001. The suite's 'a CDI device appears' check assumes the driver writes "
             "CDI specs (upstream allows zero CDI IDs)."),
    "DRA-PREP-011": Source(
        SourceKind.CDI, f"{CDI_LIB}/pkg/cdi/cache.go",
        "Cache.InjectDevices",
        quote="return unresolved, fmt.Errorf(\"unresolvable CDI devices %s\",",
        note="The runtime fails container creation for an ID no spec defines (upstream test "
             "driver: 'kubelet+crio then fail with: CDI device injection failed: unresolvable CDI "
             "devices')."),
    "DRA-PREP-014": Source(
        SourceKind.API, f"{API}/resource/v1/types.go",
        "DeviceRequestAllocationResult.ConsumedCapacity",
        quote="ConsumedCapacity tracks the amount of capacity consumed per device as part of "
              "the claim request.",
        note="The scheduler hands out the rest of the device's capacity to other claims on the "
             "strength of consumedCapacity; hardware set up larger takes theirs, smaller gives "
             "the workload less than it was allocated."),
    "DRA-PREP-013": Source(
        SourceKind.PROTO, f"{KUBELET}/pkg/apis/dra/v1/api.proto",
        "DRAPlugin.NodePrepareResources",
        quote="for use on the node.",
        note="The kubelet starts the pod's containers as soon as NodePrepareResources answers "
             "(kuberuntime only waits for PrepareResources of the DRA manager), so a device "
             "still being reconfigured is handed to a workload that cannot use it yet, or one "
             "that sees the previous user's image."),
    "DRA-PREP-012": Source(
        SourceKind.CODE, f"{DRA_LIB}/kubeletplugin/draplugin.go",
        "nodePluginImplementation.getResourceClaims",
        quote="return resourceClaims, fmt.Errorf(\"claim %s/%s not allocated\", "
              "claimReq.Namespace, claimReq.Name)",
        note="Upstream's helper refuses a claim it cannot get, an unallocated one or one whose "
             "UID differs ('got replaced') before the driver code runs, as a whole-call error "
             "(the DRAPlugin doc: the helper 'verifies that all claims are really allocated'). "
             "Claim fields are 'REQUIRED' in the proto. Either form of refusal is fine."),
    "DRA-CONF-001": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "supports claim and class parameters",
        quote="ginkgo.It(\"supports claim and class parameters\"",
        note="Upstream checks that claim (and class) opaque parameters reach the containers. What "
             "parameters mean is driver-defined ('Parameters can contain arbitrary data'), so "
             "this applies only where the driver documents a configuration (profile spec.config)."),
    "DRA-CONF-002": Source(
        SourceKind.API, f"{API}/resource/v1/types.go",
        "DeviceAllocationResult.Config",
        quote="This field is a combination of all the claim and class configuration parameters.",
        note="Upstream defines no precedence: 'Drivers can distinguish between those based on a "
             "flag'. The allocator lists class configs before claim configs and the upstream e2e "
             "expects both (admin_/user_ prefixes); Source marks class config as something 'a "
             "normal user would [not] have been able to set'."),
    "DRA-CONF-003": Source(
        SourceKind.API, f"{API}/resource/v1/types.go",
        "OpaqueDeviceConfiguration.Parameters",
        quote="the driver developer to handle validation and versioning.",
        note="Validation is left to the driver, and the API does not say how strict it must "
             "be, so this is a SHOULD: nothing upstream breaks when a field is ignored, but the "
             "workload runs with settings nobody asked for. dra-example-driver v0.4.0 refuses "
             "one ('strict decoding error: unknown field'); upstream's test driver turns every "
             "key into an environment variable, so it has no unknown field."),
    "DRA-UNPREP-001": Source(
        SourceKind.CODE, f"{DRA_LIB}/kubeletplugin/draplugin.go",
        "DRAPlugin.UnprepareResourceClaims (interface doc)",
        quote="for un-preparation multiple times, for example if it gets restarted.",
        note="Upstream: 'This call must be idempotent'; the kubelet repeats unprepare (e2e 'must "
             "call NodeUnprepareResources again if it's in progress for one plugin when Kubelet "
             "restarts')."),
    "DRA-UNPREP-002": Source(
        SourceKind.CODE, f"{DRA_LIB}/kubeletplugin/draplugin.go",
        "DRAPlugin.UnprepareResourceClaims (interface doc)",
        quote="Therefore it is not an error if this gets called for a ResourceClaim",
        note="The kubelet calls NodeUnprepareResources for every claim it checkpointed, even if "
             "prepare failed or ran in another instance; an error blocks pod removal "
             "(FailedUnprepareDynamicResources, retried)."),
    "DRA-UNPREP-003": Source(
        SourceKind.CODE, f"{DRA_LIB}/kubeletplugin/draplugin.go",
        "DRAPlugin.UnprepareResourceClaims (interface doc)",
        quote="UnprepareResourceClaims must undo whatever work PrepareResourceClaims did.",
        note="Upstream's words are 'must undo'; the same doc says CDI specs created in prepare "
             "are removed in unprepare and 'the unique name in the CDI device ID should not be "
             "reused' to avoid stale cache hits."),
    "DRA-UNPREP-004": Source(
        SourceKind.CODE, f"{DRA_LIB}/kubeletplugin/draplugin.go",
        "DRAPlugin.UnprepareResourceClaims (interface doc)",
        quote="At the time when this gets called, the original ResourceClaims may have",
        note="The kubelet unprepares from its cache (namespace/name/uid only); claims may already "
             "be deleted (e2e 'blocks new pod after force-delete'). The helper does not read the "
             "claim on unprepare."),
    "DRA-UNPREP-005": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e_node/dra_test.go",
        "must call NodeUnprepareResources for deleted pod",
        quote="ginkgo.It(\"must call NodeUnprepareResources for deleted pod\", func",
        note="Upstream node e2e expects successful unprepare of a deleted pod's claim (also e2e "
             "'must unprepare resources for force-deleted pod'); the kubelet keeps the pod until "
             "unprepare succeeds."),
    "DRA-UNPREP-006": Source(
        SourceKind.CODE, f"{DRA_LIB}/kubeletplugin/draplugin.go",
        "DRAPlugin.UnprepareResourceClaims (interface doc)",
        quote="UnprepareResourceClaims must undo whatever work PrepareResourceClaims did.",
        note="A credential minted on the device for the claim is work prepare did; kept, it "
             "lets whoever saw it (the pod's containers, their logs) reach the device after the "
             "claim is gone, and the scheduler hands the device to someone else meanwhile."),
    "DRA-UNPREP-007": Source(
        SourceKind.CODE, f"{DRA_LIB}/kubeletplugin/draplugin.go",
        "DRAPlugin.UnprepareResourceClaims (interface doc)",
        quote="UnprepareResourceClaims must undo whatever work PrepareResourceClaims did.",
        note="A region carved from CXL memory for a claim is work prepare did; left, it holds "
             "memory the scheduler counts as free again (the claim's capacity is released), so "
             "the next claim's region cannot be made."),
    "DRA-SHARE-001": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "supports inline claim referenced by multiple containers",
        quote="ginkgo.It(\"supports inline claim referenced by multiple containers\"",
        note="Upstream e2e; the kubelet injects one preparation into several containers."),
    "DRA-SHARE-002": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "supports external claim referenced by multiple pods",
        quote="ginkgo.It(\"supports external claim referenced by multiple pods\"",
        note="Upstream e2e (also 'supports sharing a claim concurrently')."),
    "DRA-SHARE-003": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "supports init containers",
        quote="ginkgo.It(\"supports init containers\", func",
        note="Upstream e2e: the init container must see the claim's env or the pod cannot start."),
    "DRA-TMPL-001": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "deletes generated claims when pod is done",
        quote="ginkgo.It(\"deletes generated claims when pod is done\"",
        note="Upstream e2e (also 'removes reservation from claim when pod is done'); done by the "
             "resourceclaim controller, the driver's part is unpreparing so the pod can finish."),
    "DRA-MULTI-001": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "ginkgo.It(\"work\") in Context \"with multiple drivers\"",
        quote="framework.Context(\"kubelet\", feature.DynamicResourceAllocation, \"with multiple "
              "drivers\", func() {",
        note="Upstream runs a pod with claims of two drivers on one node in e2e and node e2e "
             "('Two resource Kubelet Plugins', 'must prepare and unprepare resources'); the "
             "kubelet and API assume several drivers per node, pod and claim. No upstream text "
             "makes it optional."),
    "DRA-UPD-001": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "rolling update",
        quote="f.It(\"rolling update\", f.WithKubeletMinVersion(\"1.33\")",
        note="Seamless updates are optional upstream: the helper's RollingUpdate 'can be used to "
             "enable support', needs kubelet >= 1.33 and maxSurge > 0 ('Don't use this if it is "
             "not certain that the kubelet has that support!')."),
    "DRA-LIFE-001": Source(
        SourceKind.CODE, f"{DRA_LIB}/kubeletplugin/draplugin.go",
        "DRAPlugin.UnprepareResourceClaims (interface doc)",
        quote="The DRA driver cannot assume that the matching PrepareResourceClaims",
        note="Combines the upstream musts: idempotent prepare and unprepare, tolerant of restarts "
             "between them."),
    "DRA-RST-001": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e_node/dra_test.go",
        "DescribeTable \"must be functional after service reconnect\"",
        quote="stopping pod and waiting for it to get removed, indicating that "
              "NodeUnprepareResources must have been called",
        note="Upstream restarts the plugin between prepare and unprepare and requires unprepare "
             "to succeed; helper doc: the driver 'cannot assume that the matching "
             "PrepareResourceClaims call was handled by the same process'."),
    "DRA-FEAT-ADMIN-001": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "validate ResourceClaimTemplate and ResourceClaim for admin access",
        quote="f.It(\"validate ResourceClaimTemplate and ResourceClaim for admin access\"",
        note="The namespace-label check is done by the API server; the driver's part is preparing "
             "admin-access results (e2e 'DaemonSet with admin access'). Only for drivers claiming "
             "the feature."),
    "DRA-FEAT-PRIO-001": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "selects the first subrequest that can be satisfied",
        quote="gomega.Expect(results[0].Request).To(gomega.Equal(\"request-1/sub-request-2\"))",
        note="Upstream e2e; the allocator picks the subrequest, the driver must publish matching "
             "devices and accept 'req/sub' results."),
    "DRA-FEAT-PART-001": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "must consume and free up counters",
        quote="f.It(\"must consume and free up counters\"",
        note="Upstream e2e for partitionable devices; only for drivers claiming the feature."),
    "DRA-FEAT-CAP-001": Source(
        SourceKind.PROTO, f"{KUBELET}/pkg/apis/dra/v1/api.proto",
        "Device.share_id",
        quote="The share ID of device.",
        note="The proto marks share_id 'Optional.'; kubelet state.go: 'RequestName, ShareID, and "
             "CDI device IDs are optional.' The kubelet only passes it on to the PodResources API "
             "(container_manager_linux.go), so nothing breaks without it."),
    "DRA-FEAT-TAINT-001": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "NoSchedule keeps pod pending",
        quote="f.It(\"NoSchedule keeps pod pending\"",
        note="The scheduler enforces taints (also e2e 'NoSchedule can be tolerated'); the "
             "driver's part is publishing Device.Taints ('driver-defined taints'). The suite's "
             "rule that unhealthy hardware must become a taint is the project's own (PRACTICE)."),
    "DRA-FEAT-STATUS-001": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "must be possible for a node ServiceAccount to update the node "
        "ResourceClaim.Status.Devices once allocated",
        quote="f.It(\"must be possible for a node ServiceAccount to update the node "
              "ResourceClaim.Status.Devices once allocated\"",
        note="Defines the feature (API: status.devices 'Entries are owned by their respective "
             "drivers'); only for drivers claiming it. No suite test carries this ID."),
    "DRA-FEAT-HEALTH-001": Source(
        SourceKind.PROTO, f"{KUBELET}/pkg/apis/dra-health/v1/api.proto",
        "NodeWatchResourcesResponse",
        quote="This should be a complete list for the driver; Kubelet will reconcile this",
        note="Upstream says 'should'; the helper allows subsets ('may cover a subset'). The "
             "kubelet truncates long messages and stamps its own time (updateHealthInfo sets "
             "LastUpdated = now), so the message-length and last_updated_time > 0 checks are only "
             "PRACTICE."),
    "DRA-FEAT-HEALTH-002": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e_node/dra_test.go",
        "should reflect device health changes in the Pod's status",
        quote="ginkgo.It(\"should reflect device health changes in the Pod's status\"",
        note="Upstream node e2e; the feature's purpose. Only for drivers claiming health "
             "reporting."),
    "DRA-FEAT-BIND-001": Source(
        SourceKind.CODE, f"{SCHEDULER_PLUGIN}/dynamicresources.go",
        "DynamicResources.isClaimReadyForBinding",
        quote="It returns true if (and only if) all binding conditions are true,",
        note="PreBind waits until the driver sets every bindingCondition True in status.devices, "
             "otherwise the binding times out. No upstream e2e (only "
             "test/integration/dra/binding_conditions.go) and no suite test carries this ID."),
    "DRA-FEAT-EXT-001": Source(
        SourceKind.E2E, f"{KUBERNETES}/test/e2e/dra/dra.go",
        "must run a pod with explicit extended resource with one container one resource",
        quote="ginkgo.It(\"must run a pod with explicit extended resource with one container one "
              "resource\"",
        note="Upstream e2e for DeviceClass extendedResourceName; only for drivers claiming the "
             "feature. No suite test carries this ID."),
}
