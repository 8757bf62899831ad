"""Real Kubernetes clusters for testing DRA drivers against fakehw's emulated hardware.

A cluster comes from a *provider* picked by name (`local`: the control plane, containerd and
kubelets as host processes built from source; `kind`: kind's node containers). Providers share
one small protocol (providers/base.py), so tests and the CLI do not care which one runs.

    binaries/   build Kubernetes, etcd, containerd and a pause program from the Go module
                proxy into a checksummed cache (or use release binaries given by env vars)
    images/     OCI image archives written by Python: the pause and workload images
    local/      the local provider's pieces: layout, certificates, configs, processes,
                host objects (cgroups, mounts, bridges), the steps of up and down
    kind/       kind configs for 1.37 with DRA and CDI
    providers/  the provider protocol, the registry, and the local and kind providers
    cli.py      `fakehw cluster up|down|status|kubeconfig|logs|build`
    pytest_fixtures.py  a session-scoped cluster for tests
    bench.py    timing of up/down and idle memory
"""
