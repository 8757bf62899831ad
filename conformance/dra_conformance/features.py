"""The optional DRA features a driver may claim in its profile.

Requirements tied to a feature apply only when the driver claims it; otherwise they are
reported as "not applicable", never as passed. The names are the profile's spelling.
"""

from __future__ import annotations

from enum import StrEnum


class Feature(StrEnum):
    """An optional capability; the value is how profiles and reports spell it."""

    PARTITIONABLE = "partitionable"  # shared counters (DRAPartitionableDevices)
    CONSUMABLE_CAPACITY = "consumableCapacity"  # shareID round trip (DRAConsumableCapacity)
    ADMIN_ACCESS = "adminAccess"  # DRAAdminAccess
    PRIORITIZED_LIST = "prioritizedList"  # firstAvailable (DRAPrioritizedList)
    DEVICE_TAINTS = "deviceTaints"  # DRADeviceTaints
    DEVICE_STATUS = "deviceStatus"  # driver-written claim status.devices
    HEALTH_REPORTING = "healthReporting"  # DRAResourceHealth stream (ResourceHealthStatus)
    V1BETA1 = "v1beta1"  # the v1beta1 DRAPlugin gRPC service besides v1
    BINDING_CONDITIONS = "bindingConditions"  # DRADeviceBindingConditions
    EXTENDED_RESOURCES = "extendedResources"  # DRAExtendedResource
    FPGA_PROGRAMMING = "fpgaProgramming"  # prepare loads FPGA images (spec.fpgaProgramming)
    CLAIM_CREDENTIALS = "claimCredentials"  # a credential per claim (spec.claimCredentials)

    @classmethod
    def parse(cls, text: str) -> Feature:
        """The feature spelled ``text``; ValueError lists the known spellings."""
        for feature in cls:
            if feature.value == text:
                return feature
        known = ", ".join(feature.value for feature in cls)
        raise ValueError(f"unknown feature {text!r}; known features: {known}")
