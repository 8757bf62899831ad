"""The parts of ``hack/conformance.py``, the ``make conformance`` job.

    settings.py    JobSettings (one run's choices) and the nodes a cluster reports
    commands.py    the commands and files a run makes, as pure functions
    supervisor.py  the driver processes: kept running, restarted on request, stopped
    pods.py        the driver as pods: its image, its workloads for a local cluster, restarts
    job.py         the steps of a run, their timings, and the cleanup on every way out
    demo.py        ``make demo``'s parts: the claim and pod, the pod's log, ffmpeg, the frame

Imported relatively, so the package works both beside the script (``conformancejob``) and
from the project's tests (``hack.conformancejob``).
"""
