"""fakehw: emulated GPUs, FPGAs, CXL memory and RTSP IP cameras for testing DRA drivers.

The emulated hardware is the ground truth of the project: a sysfs tree and a devfs tree laid out
the way the kernel lays them out, and cameras that speak real RTSP. Drivers and tools read them
as they would read a real machine.
"""

__version__ = "0.1.0"
