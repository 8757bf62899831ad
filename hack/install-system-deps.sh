#!/usr/bin/env bash
# Installs the Debian packages the tests run for real: pciutils (lspci), ndctl/daxctl (cxl,
# daxctl), ffmpeg (ffprobe, ffmpeg), what the local cluster needs (runc, CNI plugins,
# busybox for the workload image, iptables, nftables for kube-proxy, iproute2), and python3-venv (Debian's Python
# makes no venv without it). Installs only what is missing.
set -euo pipefail

packages=(pciutils ndctl daxctl ffmpeg runc containernetworking-plugins busybox-static
          iptables nftables iproute2 util-linux strace python3-venv)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
