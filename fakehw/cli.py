"""The ``fakehw`` command: bring emulated hardware up and down, inspect it and inject faults.

Every option also reads an environment variable: ``--root`` is ``FAKEHW_ROOT`` everywhere,
and other options ``FAKEHW_<COMMAND>_<OPTION>`` (click's ``auto_envvar_prefix``). Errors
name the input and the fix and exit 1 (2 for bad input).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from fakehw import __version__, machine, profiles, runtime
from fakehw.camera.cli import camera as camera_group
from fakehw.certify import certify as certify_command
from fakehw.cluster.cli import cluster as cluster_group
from fakehw.errors import FakeHWError
from fakehw.tree import state as tree_state

F = TypeVar("F", bound=Callable[..., Any])
console = Console(stderr=True)


class BadInput(click.ClickException):
    exit_code = 2


def explained(function: F) -> F:
    """Turn fakehw errors into one clear line instead of a traceback."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        except FakeHWError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper  # type: ignore[return-value]


root_option = click.option(
    "--root", type=click.Path(file_okay=False, path_type=Path), required=True,
    envvar="FAKEHW_ROOT", help="Folder holding the emulated sys/, dev/ and proc/ trees.")


@click.group(context_settings={"auto_envvar_prefix": "FAKEHW", "show_default": True})
@click.version_option(__version__, prog_name="fakehw")
def main() -> None:
    """Emulated GPUs, FPGAs, CXL memory and IP cameras for testing DRA drivers."""


@main.command()
@click.option("--profile", "profile_name", default="edge-node",
              help="Built-in profile name or path to a HardwareProfile YAML file.")
@root_option
@click.option("--node-name", default="", help="Seed for serials and UUIDs (default: profile name).")
@click.option("--cameras/--no-cameras", default=True, help="Start the profile's RTSP cameras.")
@explained
def up(profile_name: str, root: Path, node_name: str, cameras: bool) -> None:
    """Materialize a hardware profile under ROOT and start its cameras."""
    profile = profiles.load(profile_name)
    state = runtime.up(profile, root, node_name, cameras=cameras)
    console.print(f"[green]up[/]: {len(state.devices)} devices from {profile.source} at {root}")
    for camera in state.cameras:
        console.print(f"camera {camera['name']}: {camera['url']}")
    if state.cameras:
        console.print(f"camera control socket: {runtime.control_socket(root)}")


@main.command()
@root_option
@explained
def down(root: Path) -> None:
    """Stop the tree's processes and remove everything fakehw created under ROOT."""
    removed = machine.down(root)
    console.print(f"[green]down[/]: removed {root}" if removed else f"nothing to remove at {root}")


@main.command()
@root_option
@click.option("--output", "-o", type=click.Choice(["table", "json"]), default="table")
@explained
def inventory(root: Path, output: str) -> None:
    """List the devices in the tree: the ground truth drivers are compared against."""
    state = tree_state.load(root)
    if output == "json":
        rows = [{"name": r.name, "kind": r.kind, "bdf": r.bdf, "sysfs": r.sysfs,
                 "present": r.name not in state.unplugged,
                 "healthy": r.name not in state.unhealthy, "attributes": r.attributes}
                for r in state.devices]
        click.echo(json.dumps({"node": state.node_name, "profile": state.profile,
                               "devices": rows, "cameras": state.cameras}, indent=2))
        return
    table = Table("name", "kind", "bdf", "present", "healthy", "model", title=state.node_name)
    for r in state.devices:
        table.add_row(r.name, r.kind, r.bdf, str(r.name not in state.unplugged),
                      str(r.name not in state.unhealthy), str(r.attributes.get("model", "")))
    for camera in state.cameras:
        table.add_row(camera["name"], "camera", "", "", "", camera["url"])
    Console().print(table)


@main.command()
@root_option
@click.argument("device")
@explained
def unplug(root: Path, device: str) -> None:
    """Hot-unplug DEVICE (name such as gpu0, or BDF) with everything hanging off it."""
    console.print(f"unplugged {', '.join(machine.unplug(root, device))}")


@main.command()
@root_option
@click.argument("device")
@explained
def replug(root: Path, device: str) -> None:
    """Plug DEVICE back in."""
    console.print(f"replugged {', '.join(machine.replug(root, device))}")


@main.command()
@root_option
@click.argument("device")
@click.argument("health", type=click.Choice(["healthy", "unhealthy"]))
@click.option("--reason", default="", help="Why, as the kernel would log it.")
@explained
def health(root: Path, device: str, health: str, reason: str) -> None:
    """Mark DEVICE healthy or unhealthy, shown where its kernel driver would show it."""
    machine.set_health(root, device, health == "healthy", reason)
    console.print(f"{device}: {health}")


@main.group(name="profiles")
def profiles_group() -> None:
    """Built-in hardware profiles and profile validation."""


@profiles_group.command(name="list")
def profiles_list() -> None:
    """Name the built-in profiles."""
    for name in profiles.builtin_names():
        profile = profiles.load(name)
        click.echo(f"{name}\t{len(profile.gpus)} GPUs, {len(profile.fpgas)} FPGAs, "
                   f"{len(profile.cxl)} CXL, {len(profile.cameras)} cameras")


@profiles_group.command(name="validate")
@click.argument("profile")
@explained
def profiles_validate(profile: str) -> None:
    """Check a profile file (or built-in name) without creating anything."""
    loaded = profiles.load(profile)
    click.echo(f"{loaded.source}: valid ({loaded.name})")


@main.group()
def fpga() -> None:
    """Program emulated FPGAs and make bitstreams for them."""


@fpga.command()
@root_option
@click.argument("device")
@click.argument("bitstream", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--wait/--no-wait", default=False,
              help="Wait for a programming under way instead of failing as busy.")
@explained
def program(root: Path, device: str, bitstream: Path, wait: bool) -> None:
    """Load BITSTREAM (Intel GBS) into DEVICE's port, walking the FPGA manager's states."""
    from fakehw.devices.fpga import program as load  # noqa: PLC0415 (keeps startup light)

    result = load(root, device, bitstream, wait=wait)
    console.print(f"{result.fpga}: AFU {result.previous_afu_id} -> {result.afu_id} "
                  f"in {result.seconds:.2f}s ({' -> '.join(result.states)})")


@fpga.command(name="make-bitstream")
@click.option("--interface-id", required=True, help="PR interface id (the region's compat_id).")
@click.option("--afu-id", required=True, help="Accelerator (AFU) id the image carries.")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path))
@explained
def make_bitstream(interface_id: str, afu_id: str, output: Path) -> None:
    """Write a GBS image for tests and demos."""
    from fakehw.devices.fpga import write_bitstream  # noqa: PLC0415

    console.print(f"wrote {write_bitstream(output, interface_id, afu_id)}")


@main.group()
def cxl() -> None:
    """Create and delete regions on emulated CXL memory."""


@cxl.command(name="create-region")
@root_option
@click.argument("memdev")
@click.argument("size")
@explained
def create_region(root: Path, memdev: str, size: str) -> None:
    """Carve a RAM region of SIZE (e.g. 512Mi) out of MEMDEV (mem0, cxl0 or its BDF)."""
    from fakehw.devices import cxl as cxl_kind  # noqa: PLC0415

    click.echo(cxl_kind.create_region(root, memdev, size))


@cxl.command(name="delete-region")
@root_option
@click.argument("region")
@explained
def delete_region(root: Path, region: str) -> None:
    """Delete REGION with its DAX device and NUMA node (newest region of a memdev first)."""
    from fakehw.devices import cxl as cxl_kind  # noqa: PLC0415

    cxl_kind.delete_region(root, region)
    console.print(f"deleted {region}")


main.add_command(camera_group)
main.add_command(cluster_group)
main.add_command(certify_command)


if __name__ == "__main__":
    sys.exit(main())
