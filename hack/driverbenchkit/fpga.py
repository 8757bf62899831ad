"""NodePrepareResources of an FPGA claim, programming included.

The driver's own FPGA preparer in a real plugin on a unix socket, over an edge-node fakehw
tree whose watcher process plays the kernel's fpga_manager (firmware request, write init,
write, write complete, operating; the profile's ``programmingTime`` of 300 ms). Claims
alternate between two AFUs, so each of them reprograms the port; a second claim for the AFU
just loaded shows what a prepare costs when programming is skipped.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import grpc
from dra_reference.discovery.node import NodeHardware
from dra_reference.inventory import Inventory
from dra_reference.plugin.memory import Config, MemoryClaimSource, Result, resource_claim
from dra_reference.plugin.server import PluginServer
from dra_reference.plugin.settings import PluginSettings
from dra_reference.preparers.dispatch import KindDispatcher
from dra_reference.preparers.fpga import FpgaPreparer
from dra_reference.preparers.journal import Journal

from driverbenchkit.kubelet import DraClient
from fakehw import machine, profiles, runtime
from fakehw.devices.fpga import write_bitstream

DRIVER = "fpga.bench.fakehw.dev"
NODE = "bench-node"
AFUS = ("00112233445566778899aabbccddeeff", "ffeeddccbbaa99887766554433221100")


def measure(where: Path, iterations: int) -> dict[str, list[float]]:
    """Latencies in ms: prepare that programs, prepare of the loaded AFU, unprepare."""
    work = Path(tempfile.mkdtemp(prefix="drabench-fpga-", dir=where))
    try:
        state = runtime.up(profiles.load("edge-node"), work / "hw", NODE, cameras=False)
        try:
            return _measure(Path(state.root), work, iterations)
        finally:
            machine.down(Path(state.root))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _measure(root: Path, work: Path, iterations: int) -> dict[str, list[float]]:
    hardware = NodeHardware(root / "sys", root / "dev", ("fpga",))
    inventory = Inventory(lambda: {NODE: hardware.scan()})
    inventory.refresh()
    [fpga] = [d for d in hardware.scan() if d.kind == "fpga"]
    firmware = root / "lib/firmware"
    firmware.mkdir(parents=True, exist_ok=True)
    for n, afu in enumerate(AFUS):
        write_bitstream(firmware / f"bench-{n}.gbs", str(fpga.attributes["compatID"]), afu)
    claims = MemoryClaimSource()
    settings = PluginSettings(DRIVER, "bench.fakehw.dev/fpga", instance_id="fpga",
                              registry_dir=work / "registry", plugins_dir=work / "plugins",
                              cdi_dir=work / "cdi")
    preparer = KindDispatcher([FpgaPreparer(root / "sys")], inventory.lookup,
                              Journal(work / "journal"))
    samples: dict[str, list[float]] = {"prepare, programming the AFU": [],
                                       "prepare, AFU already loaded": [], "unprepare": []}
    with PluginServer(settings, preparer=preparer, claims=claims) as server, \
            grpc.insecure_channel(f"unix:{settings.dra_socket}") as channel:
        dra = DraClient(channel)
        for n in range(iterations):
            config = Config("FromClaim", DRIVER, {
                "apiVersion": "fpga.fakehw.dev/v1alpha1", "kind": "FpgaConfig",
                "bitstream": f"bench-{n % 2}.gbs", "afuID": AFUS[n % 2]})
            for step, uid in (("prepare, programming the AFU", f"fpga-{n}"),
                              ("prepare, AFU already loaded", f"fpga-{n}-again")):
                claims.put(resource_claim("bench", uid, uid,
                                          [Result("fpga", DRIVER, NODE, fpga.name)], [config]))
                started = time.perf_counter()
                dra.prepare("bench", uid, uid)
                samples[step].append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                dra.unprepare("bench", uid, uid)
                samples["unprepare"].append((time.perf_counter() - started) * 1000)
        server.raise_thread_errors()
    return samples
