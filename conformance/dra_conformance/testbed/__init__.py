"""``dra-conformance run``: certify a driver from what its vendor ships.

A vendor has an image archive (an OCI layout or ``docker save`` tar), a deployment (a Helm
chart with values files and ``--set``, a kustomize folder, or plain manifests) and a driver
profile. A run:

1. checks the inputs, and renders the deployment (``helm template``, ``kubectl kustomize``)
   before anything starts: a chart that does not render is a verdict, not a traceback;
2. starts a fakehw cluster with Services, DNS and each node's own paths (or uses a running
   one, left running), each node with its hardware profile;
3. loads the images into every node (no registry);
4. installs the deployment as it is (``helm install``, ``kubectl apply``);
5. waits for the driver's DaemonSet pods to be Ready on every node and for its slices,
   giving up at once on a hopeless pod (image missing, crash loop, bad config);
6. runs the suite (``certify``) with the profile, told the driver is deployed and how to
   restart or roll its pods;
7. uninstalls and stops the cluster, on every way out (``--keep`` leaves both).

A driver that does not start is "not certified: the driver did not start", with the pods'
waiting reasons, the namespace's events and the last log lines in the report.

    settings.py   what a run is given
    deployment.py render, install and uninstall with the real helm and kubectl
    pods.py       the driver's pods: readiness, hopeless states, diagnosis, restarts
    run.py        the steps, timed, and the cleanup
"""
