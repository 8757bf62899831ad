#!/usr/bin/env bash
# Build (or reuse) the cluster binaries, then run the cluster tests against a fresh local
# cluster that the pytest session starts and deletes. Usage: hack/cluster-e2e.sh [pytest args]
# Environment: FAKEHW_CACHE_DIR (binary cache), FAKEHW_NODES (default 2 in tests/cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/install-system-deps.sh
go version >/dev/null || { echo "Go >= 1.26 must be on PATH to build the cluster binaries" >&2; exit 1; }
python=.venv/bin/python
[[ -x $python ]] || python=python3
"$python" -m fakehw.cluster.cli build --component kubernetes --component etcd \
  --component containerd --component pause --component dra-test-driver \
  --component fakehw-cdi-plugin
exec "$python" -m pytest tests/cluster -m cluster -p no:cacheprovider "$@"
