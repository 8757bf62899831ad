"""The parameter types a claim or DeviceClass can pass to each kind, version ``v1alpha1``.

Each type is a frozen dataclass parsed from a ``Reader``; unknown fields are errors. Defaults
are what a claim without configuration gets, so an empty object and no object mean the same.

    apiVersion: gpu.fakehw.dev/v1alpha1
    kind: GpuConfig
    sharing: {strategy: TimeSlicing, timeSlicing: {interval: Short}}
    features: [fp64]

    apiVersion: fpga.fakehw.dev/v1alpha1
    kind: FpgaConfig
    bitstream: nlb0.gbs            # a firmware file name, loaded as the kernel loads firmware
    afuID: d8424dc4-a4a3-c413-f89e-433683f9040b   # what the port must show afterwards
    programTimeoutSeconds: 60
    setup: {lanes: 4}              # handed to the workload as FAKEHW_FPGA_SETUP_<NAME>

    apiVersion: camera.fakehw.dev/v1alpha1
    kind: CameraConfig
    transport: tcp

    apiVersion: cxl.fakehw.dev/v1alpha1
    kind: CxlConfig
    daxDevice: true                # hand the region's /dev/daxX.Y to the container
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dra_reference.fields import Reader

GPU_FEATURES = ("fp64", "ecc", "media", "raytracing", "p2p")
INTERVALS = ("Default", "Short", "Medium", "Long")
HEX128 = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
FIRMWARE_NAME = r"(?!.*\.\.)[A-Za-z0-9_.+-]+(/[A-Za-z0-9_.+-]+)*"
SETUP_NAME = r"[A-Za-z][A-Za-z0-9_]{0,63}"


@dataclass(frozen=True)
class GpuConfig:
    strategy: str = "Exclusive"  # Exclusive | TimeSlicing
    interval: str = "Default"  # the time slice, with TimeSlicing
    features: tuple[str, ...] = ()

    @classmethod
    def parse(cls, reader: Reader) -> GpuConfig:
        config = cls()
        sharing = reader.object("sharing")
        if sharing is not None:
            strategy = sharing.string("strategy", "Exclusive",
                                      choices=("Exclusive", "TimeSlicing"))
            slicing = sharing.object("timeSlicing")
            interval = "Default"
            if slicing is not None:
                if strategy != "TimeSlicing":
                    slicing.fail("is only allowed with strategy TimeSlicing")
                interval = slicing.string("interval", "Default", choices=INTERVALS)
                slicing.done()
            sharing.done()
            config = cls(strategy, interval)
        features = reader.strings("features", choices=GPU_FEATURES)
        return cls(config.strategy, config.interval, tuple(dict.fromkeys(features)))


@dataclass(frozen=True)
class FpgaConfig:
    bitstream: str = ""
    afu_id: str = ""  # 32 lowercase hex digits, as the port's afu_id shows it
    program_timeout: int = 60
    setup: dict[str, str | int | bool] = field(default_factory=dict)

    @classmethod
    def parse(cls, reader: Reader) -> FpgaConfig:
        bitstream = reader.string("bitstream", "", pattern=FIRMWARE_NAME,
                                  hint="give a firmware file name such as nlb0.gbs, relative "
                                       "to the node's firmware directory")
        afu_id = reader.string("afuID", "", pattern=HEX128,
                               hint="give a 128-bit id: 32 hex digits, dashes allowed")
        timeout = reader.integer("programTimeoutSeconds", 60, minimum=1, maximum=600)
        setup = reader.scalars("setup")
        for name in setup:
            if not re.fullmatch(SETUP_NAME, name):
                reader.fail(f"{name!r} is not a name (letters, digits, '_')", f"setup.{name}")
        return cls(bitstream, afu_id.replace("-", "").lower(), timeout, setup)


@dataclass(frozen=True)
class CameraConfig:
    transport: str = "tcp"

    @classmethod
    def parse(cls, reader: Reader) -> CameraConfig:
        return cls(reader.string("transport", "tcp", choices=("tcp", "udp")))


@dataclass(frozen=True)
class CxlConfig:
    dax_device: bool = True

    @classmethod
    def parse(cls, reader: Reader) -> CxlConfig:
        return cls(reader.boolean("daxDevice", True))
