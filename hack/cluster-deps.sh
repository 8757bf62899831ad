#!/usr/bin/env bash
# Debian packages a local fakehw cluster needs on the host (run as root):
#   runc                          the OCI runtime containerd's shim calls
#   containernetworking-plugins   bridge + host-local CNI plugins (/usr/lib/cni)
#   busybox-static                the shell and tools of the workload image
#   iproute2                      `ip`, to create and delete the node bridges
# Go (>= 1.26) must be on PATH to build the binaries; it is not a Debian package here.
set -euo pipefail
packages=(runc containernetworking-plugins busybox-static iproute2)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
go version
