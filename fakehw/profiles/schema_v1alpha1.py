"""Hardware profile schema ``fakehw.dev/v1alpha1``, kind ``HardwareProfile``.

    apiVersion: fakehw.dev/v1alpha1
    kind: HardwareProfile
    metadata: {name: edge-node}
    spec:
      cpu: {numaNodes: 1, cpusPerNode: 8}
      gpus:      [{model: intel-arc-a770, count: 2, memory: 16Gi, numaNode: 0, sriovVFs: 0}]
      fpgas:     [{model: intel-pac-n3000, count: 1, programmingTime: 300ms}]
      cxlMemory: [{capacity: 1Gi, numaNode: 0, regions: [512Mi]}]
      cameras:   [{name: front-door, resolution: 640x360, fps: 15, listen: 127.0.0.1:8554}]

Everything is checked before anything is created; errors name the field and the fix.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re

from fakehw.profiles.catalog import FPGA_MODELS, GPU_MODELS
from fakehw.profiles.fields import Fields
from fakehw.profiles.model import FPGA, GPU, Camera, CXLMemory, HardwareProfile
from fakehw.profiles.units import format_bytes, parse_bytes, parse_seconds

API_VERSION = "fakehw.dev/v1alpha1"
KIND = "HardwareProfile"
CXL_GRANULE = 256 * 2**20  # CXL HDM decoders map memory in 256 MiB units
CXL_DECODERS = 4  # HDM decoders per endpoint, so regions per expander
CXL_EXPANDERS = 8  # host bridges the CXL window layout leaves room for
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_RESOLUTION = re.compile(r"^(\d+)x(\d+)$")
MAX_DEVICES = 256


def parse(doc: object, source: str) -> HardwareProfile:
    top = Fields(source, "", doc, ("apiVersion", "kind", "metadata", "spec"))
    top.choice("apiVersion", "", (API_VERSION,))
    top.choice("kind", "", (KIND,))
    name = top.nested("metadata", ("name", "description")).string("name")
    if not _NAME.match(name):
        top.fail("metadata.name", f"{name!r} is not a DNS label",
                 "use lowercase letters, digits and '-'")
    spec = top.nested("spec", ("cpu", "gpus", "fpgas", "cxlMemory", "cameras"))
    cpu = spec.nested("cpu", ("numaNodes", "cpusPerNode"))
    numa_nodes = cpu.integer("numaNodes", 1, 1, 8)
    profile = HardwareProfile(
        name=name,
        numa_nodes=numa_nodes,
        cpus_per_node=cpu.integer("cpusPerNode", 8, 1, 256),
        gpus=tuple(_gpus(spec, numa_nodes)),
        fpgas=tuple(_fpgas(spec, numa_nodes)),
        cxl=tuple(_cxl(spec, numa_nodes)),
        cameras=tuple(_cameras(spec)),
        source=source,
    )
    if len(profile.gpus) + len(profile.fpgas) + len(profile.cxl) > MAX_DEVICES:
        spec.fail("", f"more than {MAX_DEVICES} PCI devices",
                  "split the node into several profiles")
    return profile


def _placement(item: Fields, numa_nodes: int) -> tuple[int, int]:
    numa = item.integer("numaNode", 0, 0, numa_nodes - 1)
    return numa, item.integer("pcieRoot", numa, 0, 15)


def _gpus(spec: Fields, numa_nodes: int) -> list[GPU]:
    known = ("model", "count", "memory", "numaNode", "pcieRoot", "sriovVFs")
    found = []
    for item in spec.items("gpus", known):
        model = GPU_MODELS[item.choice("model", "", sorted(GPU_MODELS))]
        memory = item.convert("memory", model.memory_bytes, parse_bytes, "write a size like 16Gi")
        if memory <= 0:
            item.fail("memory", "must be positive", "write a size like 16Gi")
        vfs = item.integer("sriovVFs", 0, 0, 255)
        if vfs > model.max_vfs:
            item.fail("sriovVFs", f"{model.key} supports at most {model.max_vfs} VFs",
                      "lower sriovVFs or pick an SR-IOV capable model such as intel-flex-170")
        numa, root = _placement(item, numa_nodes)
        gpu = GPU(model, memory, numa, root, vfs)
        found += [gpu] * item.integer("count", 1, 1, 64)
    return found


def _stable_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _fpgas(spec: Fields, numa_nodes: int) -> list[FPGA]:
    known = ("model", "count", "compatId", "afuId", "programmingTime", "numaNode", "pcieRoot")
    found = []
    for item in spec.items("fpgas", known):
        model = FPGA_MODELS[item.choice("model", "", sorted(FPGA_MODELS))]
        ids = {}
        for key, default in (("compatId", f"{model.key}/pr-interface"), ("afuId", "nlb0")):
            value = item.string(key, _stable_hex(default)).replace("-", "").lower()
            if not _HEX32.match(value):
                item.fail(key, f"{value!r} is not 32 hex digits",
                          "write a 128-bit id as 32 hex characters (dashes allowed)")
            ids[key] = value
        seconds = item.convert("programmingTime", 0.2, parse_seconds, "write a duration like 300ms")
        if not 0 <= seconds <= 600:
            item.fail("programmingTime", "must be between 0 and 10m", "write a duration like 300ms")
        numa, root = _placement(item, numa_nodes)
        fpga = FPGA(model, ids["compatId"], ids["afuId"], seconds, numa, root)
        found += [fpga] * item.integer("count", 1, 1, 16)
    return found


def _cxl(spec: Fields, numa_nodes: int) -> list[CXLMemory]:
    found = []
    for item in spec.items("cxlMemory", ("capacity", "numaNode", "regions", "count")):
        fix = f"write a multiple of {format_bytes(CXL_GRANULE)}, like 1Gi"
        capacity = item.convert("capacity", 0, parse_bytes, fix)
        if capacity <= 0 or capacity % CXL_GRANULE:
            item.fail("capacity", f"{capacity} bytes is not a positive multiple of 256Mi", fix)
        regions: list[int] = item.convert("regions", [], _region_sizes,
                                          "write a list of sizes like [512Mi]")
        for size in regions:
            if size <= 0 or size % CXL_GRANULE:
                item.fail("regions", f"region of {size} bytes is not a multiple of 256Mi", fix)
        if sum(regions) > capacity:
            item.fail("regions", f"regions add up to {format_bytes(sum(regions))}, more than "
                      f"the capacity {format_bytes(capacity)}", "shrink the regions")
        if len(regions) > CXL_DECODERS:
            item.fail("regions", f"{len(regions)} regions, but an expander has "
                      f"{CXL_DECODERS} HDM decoders", f"list at most {CXL_DECODERS} regions")
        numa = item.integer("numaNode", 0, 0, numa_nodes - 1)
        found += [CXLMemory(capacity, numa, tuple(regions))] * item.integer("count", 1, 1, 8)
    if len(found) > CXL_EXPANDERS:
        spec.fail("cxlMemory", f"{len(found)} expanders, more than {CXL_EXPANDERS}",
                  f"use at most {CXL_EXPANDERS} CXL memory expanders per node")
    return found


def _region_sizes(value: object) -> list[int]:
    if not isinstance(value, list):
        raise TypeError("expected a list of sizes")
    return [parse_bytes(v) for v in value]


def _cameras(spec: Fields) -> list[Camera]:
    known = ("name", "resolution", "fps", "codec", "credentials", "auth", "listen", "path")
    found: list[Camera] = []
    for item in spec.items("cameras", known):
        name = item.string("name")
        if not _NAME.match(name) or name in {c.name for c in found}:
            item.fail("name", f"{name!r} is not a unique DNS label",
                      "give each camera its own name")
        match = _RESOLUTION.match(item.string("resolution", "640x360"))
        width, height = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
        if not (64 <= width <= 1920 and 64 <= height <= 1080 and width % 16 == height % 8 == 0):
            item.fail("resolution", "must be WIDTHxHEIGHT within 64x64..1920x1080, width a "
                      "multiple of 16 and height of 8", "write e.g. 640x360")
        creds = item.nested("credentials", ("username", "password"))
        host, port = _listen(item)
        if port and port in {c.port for c in found}:
            item.fail("listen", f"port {port} is used by another camera", "give each its own port")
        path = item.string("path", "/stream")
        if not path.startswith("/"):
            item.fail("path", f"{path!r} does not start with /", "write e.g. /stream")
        found.append(Camera(
            name=name, width=width, height=height, fps=item.integer("fps", 15, 1, 60),
            codec=item.choice("codec", "h264", ("h264",)),
            username=creds.string("username", "admin"), password=creds.string("password", "admin"),
            auth=item.choice("auth", "digest", ("digest", "basic", "none")),
            host=host, port=port, path=path,
        ))
    return found


def _listen(item: Fields) -> tuple[str, int]:
    text = item.string("listen", "127.0.0.1:0")
    host, _, port = text.rpartition(":")
    try:
        ipaddress.ip_address(host.strip("[]"))
        number = int(port)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        item.fail("listen", f"{text!r} is not ADDRESS:PORT",
                  "write e.g. 127.0.0.1:8554 (0 = any free port)")
    return host.strip("[]"), number
