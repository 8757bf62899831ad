"""FPGAs: load the requested AFU into the port if it is not there yet, then hand over the port.

Programming is skipped when the port already shows the requested AFU, so a claim that is
prepared again (a kubelet retry, a second pod) does not reload it. The AFU is left loaded on
unprepare, as Intel's plugin leaves it: the next claim that wants another one loads it, and a
claim that wants the same one starts at once. Admin access never reprograms: it is for
monitoring a device somebody else uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from dra_reference.cdi import ContainerEdits
from dra_reference.discovery.model import Device
from dra_reference.params.types import FpgaConfig
from dra_reference.plugin.model import JSON
from dra_reference.preparers.base import DeviceJob, DeviceSetupError, Note, cdi_node, env_name
from dra_reference.preparers.fpgaprogram import ManagerFiles, load


class FpgaPreparer:
    kind = "fpga"
    changes_devices = True

    def __init__(self, sysfs_root: Path) -> None:
        self._sysfs = sysfs_root

    def prepare(self, job: DeviceJob, note: Note) -> ContainerEdits:
        config: FpgaConfig = job.config
        device = job.device
        if not job.allocated.admin_access:
            afu = self._ensure_afu(device, config, note)
        else:
            afu = self._afu(device)
        env = [f"FAKEHW_FPGA_DEVICES={','.join(job.peers)}",
               f"FAKEHW_FPGA_AFU_ID={afu}",
               f"FAKEHW_FPGA_COMPAT_ID={device.attributes.get('compatID', '')}",
               f"FAKEHW_FPGA_PORT={device.nodes[0].path if device.nodes else ''}"]
        env += [f"FAKEHW_FPGA_SETUP_{env_name(name)}={_text(value)}"
                for name, value in sorted(config.setup.items())]
        return ContainerEdits(env=tuple(env),
                              device_nodes=tuple(cdi_node(node) for node in device.nodes))

    def undo(self, notes: Mapping[str, JSON]) -> None:
        """The AFU stays loaded (see the module docstring); nothing else was changed."""

    def _ensure_afu(self, device: Device, config: FpgaConfig, note: Note) -> str:
        current = self._afu(device)
        if config.afu_id and current == config.afu_id:
            return current  # already loaded: nothing to program
        if not config.bitstream:
            if config.afu_id:
                raise DeviceSetupError(f"the port holds AFU {current}, not {config.afu_id}; "
                                       "set bitstream to load it")
            return current
        note({"programmed": config.bitstream, "previousAFU": current})
        load(ManagerFiles(self._sysfs / device.paths["manager"]), config.bitstream,
             config.program_timeout)
        loaded = self._afu(device)
        if config.afu_id and loaded != config.afu_id:
            raise DeviceSetupError(f"{config.bitstream!r} loaded AFU {loaded}, but the claim "
                                   f"asked for {config.afu_id}")
        return loaded

    def _afu(self, device: Device) -> str:
        try:
            return (self._sysfs / device.paths["port"] / "afu_id").read_text().strip()
        except OSError:
            return ""


def _text(value: str | int | bool) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
