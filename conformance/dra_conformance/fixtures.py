"""The suite's fixtures; each one a vendor or a test harness may override by name.

Loaded by the plugin when pytest configures, so they exist wherever the plugin does. A fixture
that needs something the run was not given (a socket, an API server, a restart command)
skips with the reason and the option that would supply it: the requirement is then reported
as "not run", never as passed. Heavy imports stay inside the fixtures.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dra_conformance.book import Book

if TYPE_CHECKING:
    from dra_conformance.cdi import CdiRegistry
    from dra_conformance.claims.model import DeviceRef
    from dra_conformance.claims.store import ClaimStore
    from dra_conformance.kubelet.client import KubeletClient
    from dra_conformance.profiles.model import DriverProfile

Connect = Callable[[], "KubeletClient"]
KUBELET_RESTART_TIMEOUT = 180.0
MISSING_DRIVER_WAIT = 0.0  # seconds a test waits for a driver the session already missed


@pytest.fixture(scope="session")
def dra_book(pytestconfig: pytest.Config) -> Book:
    return pytestconfig.stash[_book_key()]


@pytest.fixture(scope="session")
def dra_profile(dra_book: Book) -> DriverProfile:
    """The driver under test, from --dra-profile or --dra-driver."""
    if dra_book.profile is None:
        pytest.skip("no driver given: pass --dra-profile (or --dra-driver)")
    return dra_book.profile


@pytest.fixture(scope="session")
def dra_api_client(dra_book: Book) -> Any:
    """A kubernetes ApiClient for --dra-kubeconfig."""
    kubeconfig = dra_book.settings.kubeconfig
    if kubeconfig is None:
        pytest.skip("needs an API server: pass --dra-kubeconfig")
    from kubernetes import config  # noqa: PLC0415

    return config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(kubeconfig))


@pytest.fixture(scope="session")
def dra_node(dra_book: Book, dra_profile: DriverProfile) -> str | None:
    """The node whose kubelet the socket tier plays (None: not known)."""
    return dra_book.settings.node or (dra_profile.nodes[0] if dra_profile.nodes else None)


@pytest.fixture(scope="session")
def dra_device_class(dra_profile: DriverProfile) -> str:
    return dra_profile.device_classes[0] if dra_profile.device_classes else dra_profile.driver


@pytest.fixture(scope="session")
def dra_registration_path(dra_book: Book, dra_profile: DriverProfile) -> Path:
    """The registration socket, or the plugins_registry directory holding it."""
    path = dra_book.settings.registration_socket or dra_profile.sockets.registration
    if path is None:
        pytest.skip("socket tier: pass --dra-registration-socket (a socket or the "
                    "plugins_registry directory) or set spec.sockets.registration")
    return path


@pytest.fixture
def dra_connect(dra_book: Book, dra_profile: DriverProfile,
                dra_registration_path: Path) -> Iterator[Connect]:
    """Connects to the driver as the plugin watcher would find it now; closes on teardown."""
    from dra_conformance.kubelet.client import KubeletClient  # noqa: PLC0415
    from dra_conformance.kubelet.discovery import (  # noqa: PLC0415
        find_registration_socket,
        plugin_names,
    )

    opened: list[KubeletClient] = []
    plugin = dra_book.settings.plugin_socket or dra_profile.sockets.plugin

    def connect() -> KubeletClient:
        timeout = dra_profile.deployment.ready_timeout_seconds
        if dra_book.driver_missing:
            timeout = min(timeout, MISSING_DRIVER_WAIT)
        socket = find_registration_socket(dra_registration_path, dra_profile.driver,
                                          timeout=timeout)
        if socket is None:
            dra_book.driver_missing = True
            answering = plugin_names(dra_registration_path)
            pytest.fail(f"no registration socket at {dra_registration_path} answers GetInfo "
                        f"as {dra_profile.driver} after {timeout:.0f}s; "
                        + (f"sockets there answer as {', '.join(answering)}: is "
                           "spec.driver.name the name the driver registers with?"
                           if answering else "no socket there answers at all"))
        dra_book.driver_missing = False
        client = KubeletClient(socket, plugin, dra_book.settings.kubelet_root)
        opened.append(client)
        return client

    yield connect
    for client in opened:
        client.close()


@pytest.fixture
def dra_kubelet(dra_connect: Connect) -> KubeletClient:
    """The kubelet's side of the driver's sockets."""
    return dra_connect()


@pytest.fixture
def dra_restart(pytestconfig: pytest.Config, dra_profile: DriverProfile) -> Callable[[], None]:
    """Restarts the driver (the profile's restartCommand); reconnect with dra_connect."""
    supplied = pytestconfig.hook.pytest_dra_restart(config=pytestconfig, profile=dra_profile)
    if supplied is not None:
        return supplied  # type: ignore[no-any-return]
    command = dra_profile.deployment.restart_command
    if not command:
        pytest.skip("needs a way to restart the driver: set spec.deployment.restartCommand")
    from dra_conformance import driver_control  # noqa: PLC0415

    def restart() -> None:
        driver_control.run(command, "restarting the driver",
                           dra_profile.deployment.ready_timeout_seconds)
    return restart


@pytest.fixture(scope="session")
def dra_restart_kubelet(dra_book: Book) -> Callable[[str], None]:
    """Restarts the kubelet of the node it is given (--dra-kubelet-restart-command)."""
    template = dra_book.settings.kubelet_restart_command
    if template is None:
        pytest.skip("needs a way to restart a node's kubelet: pass "
                    "--dra-kubelet-restart-command, e.g. 'fakehw cluster restart-kubelet {node}'")
    import shlex  # noqa: PLC0415

    from dra_conformance import driver_control  # noqa: PLC0415

    def restart(node: str) -> None:
        command = [part.replace("{node}", node) for part in shlex.split(template)]
        driver_control.run(command, f"restarting the kubelet of {node}",
                           KUBELET_RESTART_TIMEOUT)
    return restart


@pytest.fixture
def dra_update(dra_profile: DriverProfile) -> Callable[[str], None]:
    """Rolls the plugin of the node it is given to a new instance (the profile's
    updateCommand, "{node}" replaced by the node's name)."""
    template = dra_profile.deployment.update_command
    if not template:
        pytest.skip("needs a way to roll the driver's plugin to a new instance: set "
                    "spec.deployment.updateCommand, e.g. a `kubectl rollout restart` of its "
                    "DaemonSet followed by `kubectl rollout status`")
    from dra_conformance import driver_control  # noqa: PLC0415

    def update(node: str) -> None:
        command = [part.replace("{node}", node) for part in template]
        driver_control.run(command, f"rolling the plugin of {node} to a new instance",
                           dra_profile.deployment.ready_timeout_seconds)
    return update


@pytest.fixture(scope="session")
def dra_companion_class(dra_book: Book) -> str:
    """A DeviceClass of another DRA driver on the node under test (--dra-companion-class)."""
    name = dra_book.settings.companion_class
    if name is None:
        pytest.skip("needs another DRA driver on the node: pass --dra-companion-class with "
                    "one of its DeviceClasses")
    return name


@pytest.fixture
def dra_claims(request: pytest.FixtureRequest, dra_book: Book, dra_profile: DriverProfile,
               dra_device_class: str, dra_node: str | None) -> Iterator[ClaimStore]:
    """Allocated ResourceClaims where the driver reads them (an API server by default)."""
    config = request.config
    store = config.hook.pytest_dra_claim_store(config=config, profile=dra_profile)
    if store is None:
        from dra_conformance.claims.apiserver import ApiServerClaimStore  # noqa: PLC0415

        if dra_book.settings.kubeconfig is None:
            pytest.skip("socket tier: claims must live in an API server the driver reads: "
                        "pass --dra-kubeconfig (or implement pytest_dra_claim_store)")
        store = ApiServerClaimStore(request.getfixturevalue("dra_api_client"),
                                    device_class=dra_device_class, node=dra_node)
    yield store
    store.close()


@pytest.fixture(scope="session")
def dra_devices(request: pytest.FixtureRequest, pytestconfig: pytest.Config,
                dra_profile: DriverProfile, dra_node: str | None) -> tuple[DeviceRef, ...]:
    """Devices the driver publishes on the node under test, to put into allocations.

    Socket-tier claims name the profile's first DeviceClass, so only devices that class
    selects are allocated to them, as the scheduler would (all the node's devices when the
    profile names no class)."""
    found = pytestconfig.hook.pytest_dra_devices(config=pytestconfig, profile=dra_profile,
                                                 node=dra_node)
    if found is None:
        from dra_conformance import slices  # noqa: PLC0415

        api_client = request.getfixturevalue("dra_api_client")
        published = slices.fetch(api_client, dra_profile.driver)
        found = slices.devices(published, dra_node)
        if dra_profile.device_classes:
            from dra_conformance.errors import ExpressionError  # noqa: PLC0415
            from dra_conformance.model.cel import CelRuntimeError  # noqa: PLC0415

            selectors = request.getfixturevalue("dra_class_selectors")
            # a class the model cannot evaluate: every device, as before classes were known
            with contextlib.suppress(ExpressionError, CelRuntimeError):
                found = slices.in_class(published, found, dra_profile.device_classes[0],
                                        selectors)
    if not found:
        classes = dra_profile.device_classes[:1]
        pytest.skip(f"the driver publishes no devices on node {dra_node or '(any)'}"
                    + (f" that DeviceClass {classes[0]} selects" if classes else ""))
    return tuple(found)


def _book_key() -> pytest.StashKey[Book]:
    from dra_conformance.plugin import BOOK  # noqa: PLC0415

    return BOOK


@pytest.fixture
def dra_cdi(dra_profile: DriverProfile) -> CdiRegistry:
    """The node's CDI specs, if their directories are visible from here."""
    from dra_conformance.cdi import CdiRegistry  # noqa: PLC0415

    registry = CdiRegistry(dra_profile.cdi_spec_dirs)
    if not registry.visible():
        pytest.skip("the CDI spec directories "
                    f"{', '.join(map(str, dra_profile.cdi_spec_dirs))} are not visible here; "
                    "run on the node or set spec.cdi.specDirs")
    return registry


@pytest.fixture
def dra_evidence(request: pytest.FixtureRequest, dra_book: Book) -> Callable[[str], None]:
    """Adds a line of evidence to the report for the requirements this test proves."""
    record = dra_book.records.get(request.node.nodeid)

    def add(text: str) -> None:
        if record is not None:
            record.evidence.append(text)
    return add


@pytest.fixture(scope="session")
def dra_slices(dra_api_client: Any, dra_profile: DriverProfile) -> list[dict[str, Any]]:
    """The driver's ResourceSlices as the API server has them at session start."""
    from dra_conformance import slices  # noqa: PLC0415

    found = slices.fetch(dra_api_client, dra_profile.driver)
    if not found:
        pytest.fail(f"the API server has no ResourceSlices of driver {dra_profile.driver}")
    return found


@pytest.fixture(scope="session")
def dra_workloads(dra_api_client: Any) -> Iterator[Any]:
    """A namespace of the suite's own for claims and pods, deleted at the end."""
    from dra_conformance.kube.workloads import Workloads  # noqa: PLC0415

    workloads = Workloads(dra_api_client)
    yield workloads
    workloads.close()


@pytest.fixture(scope="session")
def dra_class_selectors(dra_api_client: Any, dra_profile: DriverProfile) -> dict[str, list[str]]:
    """The CEL selectors of the profile's DeviceClasses, for the allocator model."""
    from kubernetes import client  # noqa: PLC0415

    api = client.ResourceV1Api(dra_api_client)
    selectors: dict[str, list[str]] = {}
    for name in dra_profile.device_classes:
        spec: Any = api.read_device_class(name).spec
        selectors[name] = [s.cel.expression for s in spec.selectors or () if s.cel]
    return selectors
