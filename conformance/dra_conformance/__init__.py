"""A pytest plugin and suite that certifies any DRA driver through a cluster and its sockets.

    plugin.py        the pytest11 plugin: --dra-* options, markers, header, bookkeeping
    settings.py      options and their DRA_* environment fallbacks
    hooks.py         pytest_dra_* hooks: claim store, devices, restart supplied from outside
    fixtures.py      dra_* fixtures the tests use
    requirements.py  the requirement catalogue (stable IDs)
    features.py      optional DRA features a profile may claim
    profiles/        DriverProfile YAML (conformance.fakehw.dev/v1alpha1)
    kubelet/         the kubelet's side of the driver's sockets
    claims/          allocated ResourceClaims for the socket tier
    kube/            claims and pods for the cluster tier
    model/           the independent allocator model and its hypothesis strategies
    suite/           the tests (pytest --pyargs dra_conformance.suite)
    verdicts.py, book.py, report/   verdicts per requirement and the result files
    certify.py, cli.py              python -m dra_conformance certify
    tools/proxy.py   a fault-injecting proxy that proves the suite can fail
"""

__version__ = "0.1.0"
