"""Broken copies of the reference driver, one realistic bug each, for bugs no proxy can make.

The socket proxy (``dra_conformance.tools.mutants``) breaks what a driver answers; these bugs
are in what it does to the node: the CDI spec it writes, how it reads its configuration. Each
mutant is a copy of ``dra_reference`` with one edit, run in place of the driver, and names
the requirement of the suite that must fail against it (``test_broken_drivers.py``).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "drivers" / "dra_reference"


@dataclass(frozen=True)
class Mutant:
    bug: str  # what the broken driver does
    killed_by: str  # the requirement that must fail
    tests: str  # the suite's tests that show it (a -k expression)
    tier: str  # the suite's tier those tests are in
    file: str  # the module to edit, under dra_reference/
    old: str  # text that must occur exactly once in it
    new: str
    helper: str = ""  # code appended to the module
    device_class: str = "gpu.dra.fakehw.dev"  # the one DeviceClass of the suite's profile


MUTANTS = {
    "every-gpus-nodes": Mutant(
        "a GPU claim's container gets the DRM nodes of every GPU of the node, not only its own",
        "DRA-ALLOC-004", "pod_per_class", "cluster", "preparers/gpu.py",
        "device_nodes=tuple(cdi_node(node) for node in job.device.nodes))",
        "device_nodes=_every_drm_node(job))",
        helper='''

def _every_drm_node(job: DeviceJob) -> tuple[object, ...]:
    import os  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from dra_reference.cdi import DeviceNode as CDINode  # noqa: PLC0415

    folder = Path(job.device.nodes[0].host_path).parent
    return tuple(CDINode(path=f"/dev/dri/{n.name}", host_path=str(n), type="c",
                         major=os.major(n.stat().st_rdev), minor=os.minor(n.stat().st_rdev),
                         permissions="rw")
                 for n in sorted(folder.iterdir()) if n.is_char_device())
'''),
    "lenient-config": Mutant(
        "opaque configuration with a field the driver does not know is accepted, the field "
        "silently ignored", "DRA-CONF-003", "unknown_field", "socket", "params/decode.py",
        "    value = parser(reader)\n    reader.done()\n", "    value = parser(reader)\n"),
    "early-fpga": Mutant(
        "prepare asks the FPGA manager for the claim's image and answers at once, while the "
        "image is still being loaded", "DRA-PREP-013", "fpga_is_operating", "socket",
        "preparers/fpga.py",
        "        load(ManagerFiles(self._sysfs / device.paths[\"manager\"]), config.bitstream,\n"
        "             config.program_timeout)\n",
        "        _request(ManagerFiles(self._sysfs / device.paths[\"manager\"]),\n"
        "                 config.bitstream)\n"
        "        return config.afu_id or self._afu(device)\n",
        helper="\nfrom dra_reference.preparers.fpgaprogram import _request  # noqa: E402\n"),
    "credential-kept": Mutant(
        "a camera claim's credential is not revoked at unprepare: the camera keeps accepting "
        "it after the claim is gone", "DRA-UNPREP-006", "credential", "cluster",
        "preparers/camera.py",
        "        if not notes.get(\"username\"):\n            return  # nothing was minted\n",
        "        return  # the credential is kept\n"),
    "gpu-env-only": Mutant(
        "a GPU claim's CDI spec sets its variables but gives the container no DRM node",
        "DRA-ALLOC-004", "pod_per_class", "cluster", "preparers/gpu.py",
        "device_nodes=tuple(cdi_node(node) for node in job.device.nodes))",
        "device_nodes=())"),
    "no-owner": Mutant(
        "node-local slices are published without their Node as owner, so they outlive a "
        "deleted node (a SHOULD)", "DRA-SLICE-003", "owned_by_their_node", "cluster",
        "slices.py", "        if pool.node_uid:\n", "        if False:\n"),
    "parent-as-pcie-root": Mutant(
        "the pcieRoot attribute names the device's parent port, not its PCIe root, so "
        "matchAttribute on it pairs devices that share no root", "DRA-SLICE-006",
        "published_devices_are_the_hardware", "cluster", "discovery/sysfs.py",
        "    return parts[1] if len(parts) > 1",
        "    return parts[-2] if len(parts) > 1"),
    "gpu-per-drm-node": Mutant(
        "every GPU is published twice, once per DRM node (card and render), so the scheduler "
        "can hand one GPU to two claims", "DRA-SLICE-006", "published_devices_are_the_hardware",
        "cluster", "slices.py",
        "    for device in sorted(devices, key=lambda d: d.name):\n",
        "    for device in sorted(_per_drm_node(devices), key=lambda d: d.name):\n",
        helper='''

def _per_drm_node(devices: list[Device]) -> list[Device]:
    import dataclasses  # noqa: PLC0415

    return devices + [dataclasses.replace(d, name=f"{d.name}-render") for d in devices
                      if d.kind == "gpu"]
'''),
    "no-taint": Mutant(
        "an unhealthy device is published without a taint, so new claims still get it",
        "DRA-FEAT-TAINT-001", "tainted_devices", "cluster", "slices.py",
        "    if not device.healthy:\n        entry[\"taints\"]",
        "    if False:\n        entry[\"taints\"]"),
    "region-kept": Mutant(
        "the CXL region carved for a claim is not deleted at unprepare", "DRA-UNPREP-007",
        "leaves_the_hardware", "cluster", "preparers/cxl.py",
        "        region = notes.get(\"region\")\n",
        "        return  # the region stays\n        region = notes.get(\"region\")\n",
        device_class="cxl-memory.dra.fakehw.dev"),
    "i915-only": Mutant(
        "only GPUs bound to i915 are discovered: the xe-bound Arc B580 is never published",
        "DRA-SLICE-006", "published_devices_are_the_hardware", "cluster", "discovery/gpu.py",
        "        if gpu is not None:\n",
        "        if gpu is not None and gpu.attributes[\"kernelDriver\"] == \"i915\":\n"),
    "health-never-reported": Mutant(
        "a GPU's fatal PCIe errors are never read: it stays healthy in the health stream and "
        "the pod status", "DRA-FEAT-HEALTH-002", "health_reaches", "cluster",
        "discovery/gpu.py", "healthy=fatal == 0,", "healthy=True,"),
    "default-size-region": Mutant(
        "the CXL region is carved at the default size, whatever capacity the claim consumed",
        "DRA-PREP-014", "capacity_the_claim_consumed", "cluster", "preparers/cxl.py",
        "        size = _size(job)\n", "        size = CXL_STEP  # the default\n",
        device_class="cxl-memory.dra.fakehw.dev"),
}


def patched_copy(name: str, folder: Path) -> Path:
    """A copy of the driver with mutant ``name``'s edit, in ``folder``; put ``folder`` on
    PYTHONPATH to run it."""
    mutant = MUTANTS[name]
    target = folder / "dra_reference"
    shutil.copytree(SOURCE, target, ignore=shutil.ignore_patterns("__pycache__"))
    module = target / mutant.file
    text = module.read_text()
    if text.count(mutant.old) != 1:
        raise AssertionError(f"mutant {name}: {mutant.file} no longer has its text once: "
                             f"{mutant.old!r}; update the mutant to the driver's code")
    module.write_text(text.replace(mutant.old, mutant.new) + mutant.helper)
    return folder
