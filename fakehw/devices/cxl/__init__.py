"""CXL type-3 memory: expanders, their CXL port hierarchy, RAM regions and DAX devices.

``CXLKind`` writes each expander as the kernel's ``cxl_pci``/``cxl_acpi``/``cxl_mem`` show it
(faithful enough for ndctl's ``cxl list`` and ``daxctl list``); ``create_region`` and
``delete_region`` change regions on a running tree; ``resync`` brings derived state in line
after hot-plug.
"""

from __future__ import annotations

from fakehw.devices.cxl.errors import CapacityError, CXLError, RegionOrderError, RegionSizeError
from fakehw.devices.cxl.kind import CXLKind
from fakehw.devices.cxl.ops import create_region, delete_region, resync

__all__ = ["CXLError", "CXLKind", "CapacityError", "RegionOrderError", "RegionSizeError",
           "create_region", "delete_region", "resync"]
