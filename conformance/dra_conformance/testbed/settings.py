"""What one ``dra-conformance run`` is given, checked before anything starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dra_conformance.errors import SettingsError


@dataclass(frozen=True)
class Shipped:
    """The deployment as the vendor ships it: exactly one of chart, kustomize, manifests."""

    chart: Path | None = None  # a chart folder or .tgz
    values: tuple[Path, ...] = ()
    sets: tuple[str, ...] = ()
    kustomize: Path | None = None
    manifests: tuple[Path, ...] = ()  # files or folders of YAML
    release: str = "dra-driver"
    namespace: str = "dra-driver"

    @property
    def kind(self) -> str:
        return "chart" if self.chart else "kustomize" if self.kustomize else "manifests"


@dataclass(frozen=True)
class RunSettings:
    shipped: Shipped
    profile: Path
    results: Path
    images: tuple[Path, ...] = ()
    hardware_profiles: dict[int, str] = field(default_factory=dict)
    nodes: int = 2
    cluster: str = "certify"
    keep: bool = False
    start_timeout: float = 300.0
    tier: str = "all"
    hypothesis_profile: str = "ci"
    seed: int | None = None
    # more ClusterSettings fields (ports, subnets, state folder), for a cluster beside others
    cluster_settings: dict[str, Any] = field(default_factory=dict)


def check(s: RunSettings) -> None:
    """Every input exists and the deployment is given one way; errors name the flag and fix."""
    given = [name for name, value in (("--chart", s.shipped.chart),
                                      ("--kustomize", s.shipped.kustomize),
                                      ("--manifests", s.shipped.manifests)) if value]
    if len(given) != 1:
        raise SettingsError(
            f"give the driver's deployment one way: --chart, --kustomize or --manifests "
            f"(given: {', '.join(given) or 'none'})")
    if (s.shipped.values or s.shipped.sets) and not s.shipped.chart:
        raise SettingsError("--values and --set are for a chart; give --chart")
    paths = [("--driver-profile", s.profile), *(("--image", i) for i in s.images),
             *(("--values", v) for v in s.shipped.values),
             *(("--manifests", m) for m in s.shipped.manifests)]
    if s.shipped.chart:
        paths.append(("--chart", s.shipped.chart))
    if s.shipped.kustomize:
        paths.append(("--kustomize", s.shipped.kustomize))
    for flag, path in paths:
        if not path.exists():
            raise SettingsError(f"{flag} {path}: no such file or folder")
    for value in s.shipped.sets:
        if "=" not in value:
            raise SettingsError(f"--set {value}: give KEY=VALUE, as helm takes it")
    if not 1 <= s.nodes <= 8:
        raise SettingsError(f"--nodes {s.nodes}: a cluster has 1 to 8 nodes")
    results = s.results
    if results.is_dir() and any(results.iterdir()) and not (results / "run.json").exists():
        raise SettingsError(f"--results {results} holds files of something else; give an "
                               "empty or new folder")
