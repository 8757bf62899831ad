"""The registration socket: how the kubelet's plugin watcher learns about the driver.

The kubelet finds the socket in plugins_registry, calls GetInfo, checks the advertised
services, connects to the DRA socket and reports the outcome with NotifyRegistrationStatus.
A rejection is the only place the kubelet tells a driver what is wrong with it, so it is
logged and kept for the owner to look at.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from dra_reference.plugin.wire import REGISTRATION as pb

log = logging.getLogger(__name__)

PLUGIN_TYPE = "DRAPlugin"
# "<proto package leaf>.<service>", as the kubelet's DRAPluginService constants spell them.
# The kubelet takes the first DRA service of this list that it knows, so v1 comes first;
# for health it takes the newest it knows whatever the order here.
DRA_SERVICES = ("v1.DRAPlugin", "v1beta1.DRAPlugin")
HEALTH_SERVICES = ("v1.DRAResourceHealth", "v1alpha1.DRAResourceHealth")


@dataclass(frozen=True)
class RegistrationStatus:
    registered: bool
    error: str


class RegistrationService:
    """Answers the plugin watcher; ``status`` is the kubelet's last verdict (None: none yet)."""

    def __init__(self, driver_name: str, endpoint: str, services: tuple[str, ...]) -> None:
        self._info = pb.PluginInfo(type=PLUGIN_TYPE, name=driver_name, endpoint=endpoint,
                                   supported_versions=list(services))
        self.status: RegistrationStatus | None = None
        self.notified = threading.Event()

    def GetInfo(self, request: Any, context: Any) -> Any:
        return self._info

    def NotifyRegistrationStatus(self, request: Any, context: Any) -> Any:
        self.status = RegistrationStatus(request.plugin_registered, request.error)
        if request.plugin_registered:
            log.info("kubelet registered DRA driver %s", self._info.name)
        else:
            log.error("kubelet rejected DRA driver %s: %s", self._info.name, request.error)
        self.notified.set()
        return pb.RegistrationStatusResponse()
